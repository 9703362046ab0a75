// What the user set up survives a restart of the real app: the library and the volume.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { launchApp } from './lib/app.mjs';
import { makeScratch } from './lib/cleanup.mjs';
import { SONGS, makeSongs } from './lib/fixtures.mjs';
import { addFolderByPath, songRows } from './lib/library.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';

describe('a restart', () => {
  let scratch;
  let app;

  before(() => {
    scratch = makeScratch('loft-e2e-restart-');
    makeSongs(join(scratch, 'music'));
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    rmSync(scratch, { recursive: true, force: true });
  }, HOOK_LIMIT);

  it('keeps the library and the volume', TEST_LIMIT, async () => {
    const profileDir = join(scratch, 'profile');
    app = await launchApp({ profileDir });
    await addFolderByPath(app.session, join(scratch, 'music'));
    await songRows(app.session, SONGS.length);
    // A range input can't be dragged through WebDriver; set it the way a drag ends.
    await app.session.execute(
      `const v = document.querySelector('[data-testid="volume"]');
       v.value = '0.35';
       v.dispatchEvent(new Event('change', { bubbles: true }));`,
    );
    await app.session.waitFor('the volume saved', async () => {
      const value = await app.session.execute(
        `return window.__TAURI_INTERNALS__.invoke('get_settings').then((s) => s.volume)`,
      );
      return Math.abs(value - 0.35) < 1e-6;
    });
    await app.close();
    app.removeScratch();

    app = await launchApp({ profileDir });
    const rows = await songRows(app.session, SONGS.length);
    for (const song of SONGS) {
      assert.ok(rows.some((r) => r.text.includes(song.title)), `${song.title} is gone after the restart`);
    }
    const volume = await app.session.waitFor('the volume slider', async () => {
      const value = await (await app.session.byTestId('volume')).property('value');
      return value === '0.35' ? value : null;
    });
    assert.equal(volume, '0.35');
  });
});
