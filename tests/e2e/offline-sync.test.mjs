// Offline first in the real app: with the S3 server stopped, a playlist is made, songs added
// to it and a track loved; the window says how many changes wait. The server comes back, a
// sync writes them, and a second computer (another profile with the same music) connected to
// the same locker sees the playlist and the heart.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { launchApp } from './lib/app.mjs';
import { makeScratch } from './lib/cleanup.mjs';
import { connectS3Form } from './lib/connect.mjs';
import { SONGS, makeSongs } from './lib/fixtures.mjs';
import { addFolderByPath, songRows } from './lib/library.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';
import { S3_BUCKET, S3_KEY, S3_SECRET, S3Server } from './lib/s3.mjs';

describe('edits made while the locker is out of reach', () => {
  let scratch;
  let s3;
  let app;
  const env = { AWS_ACCESS_KEY_ID: S3_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET };
  const loved = SONGS[1];

  before(async () => {
    scratch = makeScratch('loft-e2e-offline-');
    makeSongs(join(scratch, 'music'));
    s3 = await new S3Server(join(scratch, 's3')).start();
    app = await launchApp({ profileDir: join(scratch, 'first'), env });
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    await s3?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }, HOOK_LIMIT);

  const byTestId = (id) => app.session.byTestId(id);
  const pendingCount = async () => {
    const found = await app.session.findAll('[data-testid="pending-changes"]');
    return found.length === 1 ? Number(await found[0].attribute('data-count')) : null;
  };
  const rowOf = async (title) => {
    const rows = await songRows(app.session, SONGS.length);
    const match = rows.find((r) => r.text.includes(title));
    assert.ok(match, `${title} is not in the song list`);
    return match.row;
  };
  /** The heart in `title`'s row of the song list. */
  const heartOf = async (title) => {
    const id = await (await rowOf(title)).attribute('data-track-id');
    return app.session.find(`[data-testid="song-list"] [data-track-id="${id}"] [data-testid="love"]`);
  };
  const isLoved = async (title) => (await (await heartOf(title)).attribute('data-loved')) === 'true';

  it('connects the first computer to the locker', TEST_LIMIT, async () => {
    await addFolderByPath(app.session, join(scratch, 'music'));
    await songRows(app.session, SONGS.length);
    await connectS3Form(app.session, s3, S3_BUCKET);
  });

  it('makes a playlist, adds songs and loves a track with the server stopped', TEST_LIMIT, async () => {
    await s3.stop();
    await (await byTestId('nav-locker')).click();
    await (await byTestId('sync-now')).click();
    await app.session.waitFor('the offline indicator', async () => (await app.session.findAll('[data-testid="offline-badge"]')).length === 1, 30000);

    await (await byTestId('playlist-new')).click();
    await app.session.waitFor('the new playlist', async () => (await app.session.findAll('[data-testid="playlist-item"]')).length === 1);
    for (const song of [SONGS[0], SONGS[2]]) {
      await app.session.contextClick(await rowOf(song.title));
      await (await app.session.waitFor('add to playlist', () => app.session.find('[data-testid="menu-add-to-playlist"]'))).click();
    }
    await (await heartOf(loved.title)).click();
    await app.session.waitFor('the heart filled', () => isLoved(loved.title));

    await (await app.session.findAll('[data-testid="playlist-item"]'))[0].click();
    await app.session.waitFor('two entries', async () => (await app.session.findAll('[data-testid="playlist-entry"]')).length === 2);

    // Nothing was refused, and the window says what waits for the locker.
    const waiting = await app.session.waitFor('the changes waiting', async () => {
      const items = await app.session.findAll('[data-testid="sidebar-pending"]');
      return items.length === 1 ? items[0].text() : null;
    });
    assert.match(waiting, /^\d+ changes? waiting to sync$/);
    await (await byTestId('nav-locker')).click();
    const count = await app.session.waitFor('the count in the cloud pane', pendingCount);
    assert.ok(count >= 3, `a playlist made, two songs added and a heart: ${count} changes waiting`);
  });

  it('writes them to the locker once the server is back', TEST_LIMIT, async () => {
    await s3.start();
    await (await byTestId('nav-locker')).click();
    await (await byTestId('sync-now')).click();
    await app.session.waitFor('every change written', async () => (await pendingCount()) === 0, 60000);
    assert.equal((await app.session.findAll('[data-testid="sidebar-pending"]')).length, 0);
    assert.equal((await app.session.findAll('[data-testid="offline-badge"]')).length, 0);
  });

  it('shows the playlist and the heart on a second computer', TEST_LIMIT, async () => {
    await app.close();
    app.removeScratch();
    app = await launchApp({ profileDir: join(scratch, 'second'), env });
    // The same music on the second computer: tracks are matched by their content.
    await addFolderByPath(app.session, join(scratch, 'music'));
    await songRows(app.session, SONGS.length);
    await connectS3Form(app.session, s3, S3_BUCKET);

    const playlist = await app.session.waitFor('the playlist made offline', async () => {
      const found = await app.session.findAll('[data-testid="playlist-item"]');
      return found.length === 1 ? found[0] : null;
    }, 30000);
    await playlist.click();
    const entries = await app.session.waitFor('its two entries', async () => {
      const found = await app.session.findAll('[data-testid="playlist-entry"]');
      if (found.length !== 2) return null;
      const texts = await Promise.all(found.map((e) => e.text()));
      return texts.every((t) => t.trim()) ? texts : null;
    }, 30000);
    assert.ok(entries[0].includes(SONGS[0].title) && entries[1].includes(SONGS[2].title), JSON.stringify(entries));

    await app.session.waitFor('the heart from the first computer', () => isLoved(loved.title), 30000);
    for (const other of [SONGS[0], SONGS[2]]) assert.equal(await isLoved(other.title), false, `${other.title} was not loved`);
    // And in the built-in Loved playlist.
    await (await app.session.find('[data-testid="smart-item"][data-smart-id="builtin-loved"]')).click();
    const lovedRows = await app.session.waitFor('the Loved playlist', async () => {
      const rows = await app.session.findAll('[data-testid="smart-view"] [data-testid="track-row"]');
      return rows.length === 1 ? Promise.all(rows.map((r) => r.text())) : null;
    });
    assert.ok(lovedRows[0].includes(loved.title), lovedRows[0]);
  });
});
