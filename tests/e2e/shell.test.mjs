// The app starts and shows its real layout.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifactsDir, launchApp } from './lib/app.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';

describe('the desktop shell', () => {
  let app;

  before(async () => {
    app = await launchApp();
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
  }, HOOK_LIMIT);

  it('opens a window titled Loft', TEST_LIMIT, async () => {
    const title = await app.session.waitFor('the window title', async () => {
      const t = await app.session.title();
      return t === 'Loft' ? t : null;
    });
    assert.equal(title, 'Loft');
  });

  it('shows the sidebar, the main view and the now-playing bar', TEST_LIMIT, async () => {
    for (const id of ['sidebar', 'main-view', 'now-playing']) {
      const element = await app.session.waitFor(id, () => app.session.byTestId(id));
      assert.equal(await element.displayed(), true, `${id} is not visible`);
    }
    const heading = await app.session.find('#view-heading');
    assert.equal(await heading.text(), 'Songs');
    const nowTitle = await app.session.byTestId('now-title');
    assert.equal(await nowTitle.text(), 'Nothing playing');
  });

  it('shows an honest empty library and reaches the core through IPC', TEST_LIMIT, async () => {
    const main = await app.session.byTestId('main-view');
    assert.match(await main.text(), /Your library is empty/);

    await (await app.session.byTestId('settings')).click();
    const version = await app.session.waitFor('the version from the core', async () => {
      const text = await (await app.session.byTestId('app-version')).text();
      return text || null;
    });
    assert.match(version, /^\d+\.\d+\.\d+/);
    const settingsText = await (await app.session.byTestId('main-view')).text();
    assert.ok(settingsText.includes(app.dataDir), `settings do not name the profile ${app.dataDir}`);
  });

  it('saves a screenshot of the empty window', TEST_LIMIT, async () => {
    await (await app.session.byTestId('nav-songs')).click();
    const png = await app.session.screenshot();
    assert.ok(png.subarray(1, 4).toString() === 'PNG', 'the screenshot is not a PNG');
    mkdirSync(artifactsDir, { recursive: true });
    writeFileSync(join(artifactsDir, 'shell.png'), png);
  });
});
