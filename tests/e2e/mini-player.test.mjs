// The mini player: a small window that stands in for the main one. Its controls drive the same
// player (checked through MPRIS on the private D-Bus session run-e2e.sh starts, an observer
// outside the app), the main window hides while it shows and comes back when it closes, and
// "keep on top" is kept and given to the window it opens (read off the X server with xprop).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { launchApp } from './lib/app.mjs';
import { makeScratch } from './lib/cleanup.mjs';
import { SONGS_IN_FOLDER_ORDER, makeSongs } from './lib/fixtures.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';
import { mapped, mprisNow, run } from './lib/desktop.mjs';

describe('the mini player', () => {
  let scratch;
  let app;
  let mainHandle;
  let miniHandle;
  const inFolderOrder = SONGS_IN_FOLDER_ORDER;

  before(async () => {
    scratch = makeScratch('loft-e2e-mini-');
    const music = join(scratch, 'music');
    // Long enough that the first song is still playing when the last test ends.
    makeSongs(music, { seconds: 120 });
    app = await launchApp({ args: [music] });
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }, HOOK_LIMIT);

  const session = () => app.session;
  const waitMpris = (what, check) =>
    session().waitFor(what, async () => {
      const now = await mprisNow();
      return now && check(now) ? now : null;
    }, 30_000);
  const miniText = async (id) => (await session().byTestId(id)).text();

  /** Opens the mini player from the main window and switches the session to it. */
  async function openFromMainWindow() {
    await session().switchToWindow(mainHandle);
    await (await session().byTestId('mini-player-open')).click();
    miniHandle = await session().waitFor('a second window', async () => {
      const handles = await session().windowHandles();
      return handles.find((handle) => handle !== mainHandle);
    });
    await session().switchToWindow(miniHandle);
    await session().waitFor('the mini player to show', () => session().byTestId('mini-player'), 30_000);
  }

  it('opens from the main window in its place, showing what plays', TEST_LIMIT, async () => {
    await waitMpris(`"${inFolderOrder[0].title}" playing`, (n) => n.title === inFolderOrder[0].title && n.status === 'Playing');
    mainHandle = await session().windowHandle();
    assert.equal(await mapped('Loft'), true, 'the main window shows at first');
    await openFromMainWindow();
    await session().waitFor('the title in the mini player', async () => (await miniText('mini-title')) === inFolderOrder[0].title);
    assert.equal(await miniText('mini-artist'), inFolderOrder[0].artist);
    assert.equal(await miniText('mini-duration'), '2:00');
    await session().waitFor('the main window to hide', async () => (await mapped('Loft')) === false);
    assert.equal(await mapped('Loft mini player'), true);
  });

  it('pauses and plays', TEST_LIMIT, async () => {
    await (await session().byTestId('mini-play-pause')).click();
    await waitMpris('Paused', (n) => n.status === 'Paused');
    await session().waitFor('the play button', async () =>
      (await (await session().byTestId('mini-play-pause')).attribute('aria-label')) === 'Play');
    await (await session().byTestId('mini-play-pause')).click();
    await waitMpris('Playing again', (n) => n.status === 'Playing');
  });

  it('goes to the next and the previous track', TEST_LIMIT, async () => {
    await (await session().byTestId('mini-next')).click();
    await waitMpris(`"${inFolderOrder[1].title}" after Next`, (n) => n.title === inFolderOrder[1].title);
    await session().waitFor('the mini player to follow', async () => (await miniText('mini-title')) === inFolderOrder[1].title);
    await (await session().byTestId('mini-prev')).click();
    await waitMpris(`"${inFolderOrder[0].title}" after Previous`, (n) => n.title === inFolderOrder[0].title);
  });

  it('seeks with its seek bar', TEST_LIMIT, async () => {
    // A range input is set the way a drag ends: a value, then a change event.
    await session().execute(`
      const seek = document.querySelector('[data-testid="mini-seek"]');
      seek.value = '20000';
      seek.dispatchEvent(new Event('change', { bubbles: true }));
    `);
    const now = await waitMpris('the position near 20 s', (n) => n.position >= 19.5 && n.position < 28);
    assert.equal(now.title, inFolderOrder[0].title);
    await session().waitFor('the elapsed time in the mini player', async () => {
      const [minutes, seconds] = (await miniText('mini-elapsed')).split(':').map(Number);
      return minutes * 60 + seconds >= 20;
    });
  });

  it('keeps "on top" and opens on top next time', TEST_LIMIT, async () => {
    const onTop = async () => (await run('xprop', ['-name', 'Loft mini player', '_NET_WM_STATE'], { timeout: 10_000 })).stdout;
    assert.ok(!(await onTop()).includes('_NET_WM_STATE_ABOVE'), 'on top before it was asked');
    await (await session().byTestId('mini-on-top')).click();
    await session().waitFor('the pin pressed', async () =>
      (await (await session().byTestId('mini-on-top')).attribute('aria-pressed')) === 'true');
    const saved = await session().execute(`return window.__TAURI_INTERNALS__.invoke('get_settings').then((s) => s.mini_player_on_top)`);
    assert.equal(saved, true);

    // Back to the full window: the mini player closes and the main window shows again.
    await (await session().byTestId('mini-expand')).click();
    await session().waitFor('the mini player to close', async () => (await session().windowHandles()).length === 1);
    await session().waitFor('the main window to show', async () => (await mapped('Loft')) === true);
    assert.equal(await mapped('Loft mini player'), null);

    // Opened again, it is made on top from the setting.
    await openFromMainWindow();
    await session().waitFor('the mini player on top', async () => (await onTop()).includes('_NET_WM_STATE_ABOVE'));
    await session().waitFor('the new mini player naming the song', async () => (await miniText('mini-title')) === inFolderOrder[0].title);
    await waitMpris('still playing', (n) => n.status === 'Playing');
  });
});
