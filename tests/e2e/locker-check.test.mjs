// "Check locker" in the cloud pane of the real app against a real S3 server: a healthy locker
// checks clean; a part damaged on the server is named, with what to do about it; the result
// of the last check is still there after a restart.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchApp } from './lib/app.mjs';
import { makeScratch } from './lib/cleanup.mjs';
import { connectS3Form, dropFiles } from './lib/connect.mjs';
import { SONGS, makeSongs } from './lib/fixtures.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';
import { S3_BUCKET, S3_KEY, S3_SECRET, S3Server } from './lib/s3.mjs';

/** Every file under `dir`, recursively. */
function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('checking the locker', () => {
  let scratch;
  let s3;
  let app;
  const env = { AWS_ACCESS_KEY_ID: S3_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET };

  before(async () => {
    scratch = makeScratch('loft-e2e-check-');
    makeSongs(join(scratch, 'music'), { songs: SONGS.slice(0, 2) });
    s3 = await new S3Server(join(scratch, 's3')).start();
    app = await launchApp({ profileDir: join(scratch, 'profile'), env });
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    await s3?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }, HOOK_LIMIT);

  const byTestId = (id) => app.session.byTestId(id);
  const lastResult = async () => {
    const found = await app.session.findAll('[data-testid="locker-check-result"]');
    return found.length === 1 ? found[0] : null;
  };
  /** Presses "Check locker" and waits for a result newer than the one shown before. */
  const runCheck = async () => {
    const before = await lastResult();
    const checkedBefore = before ? await before.attribute('data-checked') : null;
    await (await byTestId('locker-check-run')).click();
    return app.session.waitFor('the check to end', async () => {
      const result = await lastResult();
      return result && (await result.attribute('data-checked')) !== checkedBefore ? result : null;
    }, 60000);
  };

  it('uploads two songs', TEST_LIMIT, async () => {
    await connectS3Form(app.session, s3, S3_BUCKET);
    assert.match(await (await byTestId('locker-check')).text(), /Not checked on this computer yet/);
    await dropFiles(app.session, SONGS.slice(0, 2).map((song) => join(scratch, 'music', song.file)));
    await app.session.waitFor('both uploaded', async () => {
      const items = await app.session.findAll('[data-testid="upload-item"]');
      const states = await Promise.all(items.map((item) => item.attribute('data-state')));
      return states.length === 2 && states.every((s) => s === 'done');
    }, 60000);
  });

  it('finds a healthy locker clean', TEST_LIMIT, async () => {
    const result = await runCheck();
    assert.equal(await result.attribute('data-ok'), 'true');
    assert.match(await result.text(), /No damage found \(2 songs verified/);
    assert.equal((await app.session.findAll('[data-testid="locker-check-problem"]')).length, 0);
  });

  it('names a part damaged on the server, with the repair', TEST_LIMIT, async () => {
    const parts = filesUnder(join(scratch, 's3', S3_BUCKET)).filter((path) => /\/parts\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}\/\d{6}$/.test(path));
    assert.ok(parts.length >= 2, `the parts of two songs: ${parts}`);
    // The same length, other bytes: only the hash can tell.
    const bytes = readFileSync(parts[0]);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(parts[0], bytes);

    const result = await runCheck();
    assert.equal(await result.attribute('data-ok'), 'false');
    assert.match(await result.text(), /1 problem found/);
    const problems = await app.session.findAll('[data-testid="locker-check-problem"]');
    assert.equal(problems.length, 1);
    assert.equal(await problems[0].attribute('data-kind'), 'damaged_part');
    assert.match(await problems[0].text(), /To repair: upload the file/);
  });

  it('still shows the last check after a restart', TEST_LIMIT, async () => {
    await app.close();
    app.removeScratch();
    app = await launchApp({ profileDir: join(scratch, 'profile'), env });
    await (await app.session.waitFor('the sidebar', () => byTestId('nav-locker'))).click();
    const result = await app.session.waitFor('the last check', async () => {
      const found = await app.session.findAll('[data-testid="locker-check-result"]');
      return found.length === 1 ? found[0] : null;
    }, 30000);
    assert.equal(await result.attribute('data-ok'), 'false');
    assert.equal((await app.session.findAll('[data-testid="locker-check-problem"]')).length, 1);
  });
});
