// Steps the locker's end-to-end tests share: connecting a profile to a test S3 server through
// the cloud pane's form, as a user does, and dropping files on the window.

import assert from 'node:assert/strict';

async function setField(session, id, value) {
  const input = await session.byTestId(id);
  await input.clear();
  await input.sendKeys(value);
}

/** Opens the cloud pane, fills the S3 form for `bucket` under `prefix`, tests and connects. */
export async function connectS3Form(session, s3, bucket, prefix = 'music') {
  await (await session.waitFor('the sidebar', () => session.byTestId('nav-locker'))).click();
  await (await session.waitFor('the connect form', () => session.byTestId('locker-kind-s3'))).click();
  await setField(session, 's3-endpoint', s3.endpoint);
  await setField(session, 's3-bucket', bucket);
  await setField(session, 's3-prefix', prefix);
  await (await session.byTestId('locker-test')).click();
  const result = await session.waitFor(
    'the connection test',
    async () => {
      const found = await session.findAll('[data-testid="locker-test-result"]');
      return found.length === 1 ? found[0] : null;
    },
    30000,
  );
  assert.equal(await result.attribute('data-step'), 'ok', await result.text());
  await (await session.byTestId('locker-connect')).click();
  await session.waitFor('the quota bar', async () => (await session.findAll('[data-testid="quota-bar"]')).length === 1, 30000);
}

/** Files dropped on the window from a file manager: the event the window then receives. */
export async function dropFiles(session, paths) {
  await session.execute(
    `return window.__TAURI_INTERNALS__.invoke('plugin:event|emit', {
       event: 'tauri://drag-drop',
       payload: { paths: arguments[0], position: { x: 400, y: 300 } },
     })`,
    [paths],
  );
}
