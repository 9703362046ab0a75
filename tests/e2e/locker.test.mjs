// The locker in the real app with the default folder locker: connect, drop files on the
// window, see them uploaded and counted against the quota.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { launchApp } from './lib/app.mjs';
import { makeScratch } from './lib/cleanup.mjs';
import { SONGS, makeSongs } from './lib/fixtures.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';

describe('the locker', () => {
  let scratch;
  let app;
  let files;

  before(async () => {
    scratch = makeScratch('loft-e2e-locker-');
    files = makeSongs(join(scratch, 'to-upload'));
    app = await launchApp({ profileDir: join(scratch, 'profile') });
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    rmSync(scratch, { recursive: true, force: true });
  }, HOOK_LIMIT);

  it('connects the pre-filled folder locker', TEST_LIMIT, async () => {
    await (await app.session.waitFor('the sidebar', () => app.session.byTestId('nav-locker'))).click();
    const url = await app.session.waitFor('the pre-filled locker URL', async () => {
      const value = await (await app.session.byTestId('locker-url')).property('value');
      return value?.startsWith('file://') ? value : null;
    });
    assert.equal(url, `file://${join(scratch, 'profile', 'locker')}`);
    await (await app.session.byTestId('locker-connect')).click();
    const quota = await app.session.waitFor('the quota bar', async () => {
      const bars = await app.session.findAll('[data-testid="quota-bar"]');
      return bars.length === 1 ? bars[0].text() : null;
    });
    assert.match(quota, /of 5\.4 GB/);
    assert.ok(existsSync(join(scratch, 'profile', 'locker', 'locker.json')), 'no locker.json in the folder');
  });

  it('uploads files dropped on the window', TEST_LIMIT, async () => {
    // The event the window receives when files are dropped on it from a file manager.
    await app.session.execute(
      `return window.__TAURI_INTERNALS__.invoke('plugin:event|emit', {
         event: 'tauri://drag-drop',
         payload: { paths: arguments[0], position: { x: 400, y: 300 } },
       })`,
      [files],
    );
    // The files join the upload queue at once and go through it to done.
    const states = await app.session.waitFor(
      'the uploaded files',
      async () => {
        const found = await app.session.findAll('[data-testid="upload-item"]');
        const states = await Promise.all(found.map((i) => i.attribute('data-state')));
        return states.length === SONGS.length && states.every((s) => s === 'done') ? states : null;
      },
      60000,
    );
    assert.deepEqual(states, SONGS.map(() => 'done'));
    // The usage is asked for again once the queue is empty.
    await app.session.waitFor('the usage to grow', async () => {
      const quota = await (await app.session.byTestId('quota-bar')).text();
      return !/^0 B of/.test(quota);
    });
  });

  it('shows the uploaded songs in the library as in the locker', TEST_LIMIT, async () => {
    await (await app.session.byTestId('nav-songs')).click();
    const badges = await app.session.waitFor('three locker badges', async () => {
      const found = await app.session.findAll('[data-testid="locker-badge"]');
      return found.length === SONGS.length ? found : null;
    });
    assert.equal(badges.length, SONGS.length);
  });

  it('filters the songs by where they are', TEST_LIMIT, async () => {
    const rowCount = async () => (await app.session.findAll('[data-testid="track-row"]')).length;
    const choose = (value) =>
      app.session.execute(
        `const s = document.querySelector('[data-testid="source-filter"]');
         s.value = arguments[0];
         s.dispatchEvent(new Event('change', { bubbles: true }));`,
        [value],
      );
    await choose('local');
    await app.session.waitFor('no songs on this computer', async () => (await rowCount()) === 0);
    await choose('locker');
    await app.session.waitFor('the locker songs', async () => (await rowCount()) === SONGS.length);
  });
});
