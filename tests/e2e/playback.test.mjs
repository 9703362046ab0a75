// Playing in the real app: the engine's sound reaches the ALSA capture file, and the
// now-playing bar follows it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifactsDir, launchApp, repoRoot } from './lib/app.mjs';
import { makeScratch } from './lib/cleanup.mjs';
import { readCapture } from './lib/capture.mjs';
import { SONGS, makeSongs } from './lib/fixtures.mjs';
import { addFolderByPath, songRows } from './lib/library.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';

describe('playback', () => {
  let app;
  let music;

  before(async () => {
    music = makeScratch('loft-e2e-music-');
    makeSongs(music, { seconds: 30 });
    app = await launchApp();
    await addFolderByPath(app.session, music);
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    rmSync(music, { recursive: true, force: true });
  }, HOOK_LIMIT);

  const nowTitle = async () => (await app.session.byTestId('now-title')).text();

  it('plays a double-clicked song through the audio device', TEST_LIMIT, async () => {
    const rows = await songRows(app.session, SONGS.length);
    const first = SONGS.find((s) => rows[0].text.includes(s.title));
    assert.ok(first, `the first row is none of the fixtures: ${rows[0].text}`);
    await app.session.doubleClick(rows[0].row);

    await app.session.waitFor(`"${first.title}" in the now-playing bar`, async () => (await nowTitle()) === first.title);
    assert.equal(await (await app.session.byTestId('now-artist')).text(), first.artist);
    const capture = await app.session.waitFor('sound in the capture file', () => {
      const c = readCapture(app.capturePath);
      return c.bytes > 44100 && c.sounding ? c : null;
    });
    assert.ok(capture.sounding);
    assert.equal(await (await app.session.byTestId('play-pause')).attribute('aria-label'), 'Pause');
  });

  it('moves to the next song', TEST_LIMIT, async () => {
    const before = await nowTitle();
    await (await app.session.byTestId('next')).click();
    const after = await app.session.waitFor('another title', async () => {
      const t = await nowTitle();
      return t !== before && t !== 'Nothing playing' ? t : null;
    });
    assert.ok(SONGS.some((s) => s.title === after), `unexpected title ${after}`);
  });

  it('pauses and resumes with the space bar', TEST_LIMIT, async () => {
    await (await app.session.byTestId('song-list')).click();
    await app.session.pressKeys(' ');
    await app.session.waitFor('the paused state', async () =>
      (await (await app.session.byTestId('play-pause')).attribute('aria-label')) === 'Play',
    );
    await app.session.pressKeys(' ');
    await app.session.waitFor('playing again', async () =>
      (await (await app.session.byTestId('play-pause')).attribute('aria-label')) === 'Pause',
    );
  });

  it('shows the album grid with covers while playing (the README screenshot)', TEST_LIMIT, async () => {
    await (await app.session.byTestId('nav-albums')).click();
    await app.session.waitFor('covers loaded', async () =>
      app.session.execute(
        `const imgs = [...document.querySelectorAll('[data-testid="album-card"] img')];
         return imgs.length === ${SONGS.length} && imgs.every((i) => i.complete && i.naturalWidth > 0);`,
      ),
    );
    const png = await app.session.screenshot();
    mkdirSync(artifactsDir, { recursive: true });
    writeFileSync(join(artifactsDir, 'playing.png'), png);
    if (process.env.LOFT_UPDATE_SCREENSHOTS === '1') writeFileSync(join(repoRoot, 'docs', 'screenshot.png'), png);
  });

  it('shows the queue', TEST_LIMIT, async () => {
    await (await app.session.byTestId('queue-toggle')).click();
    const items = await app.session.waitFor('queue entries', async () => {
      const found = await app.session.findAll('[data-testid="queue-item"]');
      return found.length === SONGS.length ? found : null;
    });
    assert.equal(items.length, SONGS.length);
  });
});
