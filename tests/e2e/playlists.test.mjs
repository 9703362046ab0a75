// Building a playlist in the real app, playing it, and finding it again after a restart.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { launchApp } from './lib/app.mjs';
import { makeScratch } from './lib/cleanup.mjs';
import { SONGS, makeSongs } from './lib/fixtures.mjs';
import { addFolderByPath, songRows } from './lib/library.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';

describe('playlists', () => {
  let scratch;
  let app;

  before(async () => {
    scratch = makeScratch('loft-e2e-playlists-');
    makeSongs(join(scratch, 'music'), { seconds: 20 });
    app = await launchApp({ profileDir: join(scratch, 'profile') });
    await addFolderByPath(app.session, join(scratch, 'music'));
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    rmSync(scratch, { recursive: true, force: true });
  }, HOOK_LIMIT);

  const entries = async () => {
    const found = await app.session.findAll('[data-testid="playlist-entry"]');
    return Promise.all(found.map((e) => e.text()));
  };

  it('creates a playlist from the sidebar', TEST_LIMIT, async () => {
    await (await app.session.byTestId('playlist-new')).click();
    const name = await app.session.waitFor('the new playlist page', async () => {
      const text = await (await app.session.byTestId('playlist-name')).text();
      return text || null;
    });
    assert.equal(name, 'New playlist');
    const items = await app.session.findAll('[data-testid="playlist-item"]');
    assert.equal(items.length, 1);
  });

  it('adds songs through the context menu', TEST_LIMIT, async () => {
    for (const index of [0, 2]) {
      const rows = await songRows(app.session, SONGS.length);
      await app.session.contextClick(rows[index].row);
      const item = await app.session.waitFor('the add-to-playlist item', () =>
        app.session.find('[data-testid="menu-add-to-playlist"]'),
      );
      await item.click();
    }
    await (await app.session.findAll('[data-testid="playlist-item"]'))[0].click();
    const texts = await app.session.waitFor('two entries', async () => {
      const t = await entries();
      return t.length === 2 ? t : null;
    });
    assert.ok(texts.every((t) => SONGS.some((s) => t.includes(s.title))), JSON.stringify(texts));
  });

  it('plays the playlist', TEST_LIMIT, async () => {
    const first = (await entries())[0];
    await (await app.session.byTestId('playlist-play')).click();
    const title = await app.session.waitFor('a playlist song playing', async () => {
      const t = await (await app.session.byTestId('now-title')).text();
      return t !== 'Nothing playing' ? t : null;
    });
    assert.ok(first.includes(title), `${title} is not the playlist's first song (${first})`);
  });

  it('is still there after a restart', TEST_LIMIT, async () => {
    await app.close();
    app.removeScratch();
    app = await launchApp({ profileDir: join(scratch, 'profile') });
    const item = await app.session.waitFor('the playlist in the sidebar', async () => {
      const found = await app.session.findAll('[data-testid="playlist-item"]');
      return found.length === 1 ? found[0] : null;
    });
    assert.equal(await item.text(), 'New playlist');
    await item.click();
    await app.session.waitFor('its two entries', async () => (await entries()).length === 2);
  });
});
