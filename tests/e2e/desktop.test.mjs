// Loft as a desktop citizen: files given on the command line play without joining the library,
// the OS media controls (MPRIS on the private D-Bus session run-e2e.sh starts) show and drive
// what plays, and a second launch hands its files to the running app and exits.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { appBinary, launchApp } from './lib/app.mjs';
import { makeScratch } from './lib/cleanup.mjs';
import { SONGS, SONGS_IN_FOLDER_ORDER, makeSongs } from './lib/fixtures.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';
import { mprisNow, playerctl } from './lib/desktop.mjs';

const SECOND = { file: 'second.flac', title: 'Second Launch', artist: 'The Testers', album: 'Elsewhere', track: 1, freq: 660, colors: ['0x16a34a', '0xf0fdf4'] };

describe('the desktop citizen', () => {
  let scratch;
  let music;
  let elsewhere;
  let app;
  const inFolderOrder = SONGS_IN_FOLDER_ORDER;

  before(async () => {
    scratch = makeScratch('loft-e2e-desktop-');
    music = join(scratch, 'music');
    elsewhere = join(scratch, 'elsewhere');
    makeSongs(music, { seconds: 30 });
    makeSongs(elsewhere, { songs: [SECOND], seconds: 30 });
    app = await launchApp({ args: [music] });
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }, HOOK_LIMIT);

  const waitMpris = (what, check) =>
    app.session.waitFor(what, async () => {
      const now = await mprisNow();
      return now && check(now) ? now : null;
    }, 30_000);

  it('plays a folder given on the command line, and MPRIS shows what plays', TEST_LIMIT, async () => {
    const first = inFolderOrder[0];
    const now = await waitMpris(`"${first.title}" playing over MPRIS`, (n) => n.title === first.title && n.status === 'Playing');
    assert.equal(now.artist, first.artist);
    assert.ok(Math.abs(now.lengthSecs - 30) < 1, `MPRIS length ${now.lengthSecs} s, the file lasts 30 s`);
    // Played, not added: the library stays empty.
    const count = await app.session.execute(`return window.__TAURI_INTERNALS__.invoke('track_count', {})`);
    assert.equal(count, 0);
    const queue = await app.session.execute(`return window.__TAURI_INTERNALS__.invoke('player_status').then((s) => s.queue.length)`);
    assert.equal(queue, SONGS.length, 'the folder opens as a queue of its songs');
  });

  it('pauses and plays through MPRIS, and the window follows', TEST_LIMIT, async () => {
    await playerctl('play-pause');
    await waitMpris('Paused over MPRIS', (n) => n.status === 'Paused');
    await app.session.waitFor('the play button in the window', async () =>
      (await (await app.session.byTestId('play-pause')).attribute('aria-label')) === 'Play');
    await playerctl('play-pause');
    await waitMpris('Playing again over MPRIS', (n) => n.status === 'Playing');
    await app.session.waitFor('the pause button in the window', async () =>
      (await (await app.session.byTestId('play-pause')).attribute('aria-label')) === 'Pause');
  });

  it('goes to the next and previous track through MPRIS', TEST_LIMIT, async () => {
    await playerctl('next');
    await waitMpris(`"${inFolderOrder[1].title}" after Next`, (n) => n.title === inFolderOrder[1].title);
    await playerctl('previous');
    await waitMpris(`"${inFolderOrder[0].title}" after Previous`, (n) => n.title === inFolderOrder[0].title);
  });

  it('seeks with SetPosition and reports the position', TEST_LIMIT, async () => {
    await playerctl('position', '20');
    const position = await app.session.waitFor('the position near 20 s', async () => {
      const secs = Number(await playerctl('position'));
      return secs >= 19.5 && secs < 28 ? secs : null;
    }, 20_000);
    assert.ok(position >= 19.5);
    const engine = await app.session.execute(`return window.__TAURI_INTERNALS__.invoke('player_status').then((s) => s.position_secs)`);
    assert.ok(engine >= 19.5, `the engine is at ${engine} s`);
  });

  it('sets the volume through MPRIS, as the window does', TEST_LIMIT, async () => {
    await playerctl('volume', '0.3');
    await app.session.waitFor('the volume saved as 0.3', async () => {
      const volume = await app.session.execute(`return window.__TAURI_INTERNALS__.invoke('get_settings').then((s) => s.volume)`);
      return Math.abs(volume - 0.3) < 1e-3;
    });
    await app.session.waitFor('MPRIS reporting the volume', async () => Math.abs(Number(await playerctl('volume')) - 0.3) < 1e-3);
  });

  it('shows a notification for each new track, only when asked to', TEST_LIMIT, async () => {
    // The test's session bus has no notification server; a monitor sees the calls all the same.
    const monitor = spawn('dbus-monitor', ['--session', 'interface=org.freedesktop.Notifications,member=Notify'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let seen = '';
    monitor.stdout.on('data', (data) => (seen += data.toString()));
    try {
      // dbus-monitor says it became a monitor before it reports anything else.
      await app.session.waitFor('the monitor listening', () => seen.length > 0, 5000);
      await playerctl('next');
      await waitMpris(`"${inFolderOrder[1].title}" after Next`, (n) => n.title === inFolderOrder[1].title);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.ok(!seen.includes('member=Notify'), 'a notification although the setting is off');

      await app.session.execute(`return window.__TAURI_INTERNALS__.invoke('set_notify_on_track_change', { on: true })`);
      await playerctl('previous');
      await waitMpris(`"${inFolderOrder[0].title}" after Previous`, (n) => n.title === inFolderOrder[0].title);
      await app.session.waitFor('a notification naming the new track', () =>
        seen.includes('member=Notify') && seen.includes(`string "${inFolderOrder[0].title}"`));
      assert.ok(seen.includes(`string "${inFolderOrder[0].artist}`), `the notification names the artist:\n${seen}`);
    } finally {
      monitor.kill();
    }
  });

  it('hands a second launch to the running app, which plays its file and adds its folder', TEST_LIMIT, async () => {
    await app.session.execute(`return window.__TAURI_INTERNALS__.invoke('set_open_adds_folders', { on: true })`);
    const second = spawn(appBinary, [join(elsewhere, SECOND.file)], { env: app.env, stdio: 'ignore' });
    const exitCode = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        second.kill('SIGKILL');
        reject(new Error('the second launch did not exit within 30 s'));
      }, 30_000);
      second.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    assert.equal(exitCode, 0, 'the second launch exits cleanly');
    const now = await waitMpris(`"${SECOND.title}" playing in the first app`, (n) => n.title === SECOND.title && n.status === 'Playing');
    assert.equal(now.artist, SECOND.artist);
    // One app, the first: the one tauri-driver started, in its process group.
    const apps = execFileSync('pgrep', ['-g', String(app.driverPid), '-x', 'loft-desktop'], { encoding: 'utf8' }).trim().split(/\s+/);
    assert.equal(apps.length, 1, `loft-desktop processes: ${apps.join(', ')}`);
    // The window names the file by its tags, as MPRIS does, not by its file name.
    await app.session.waitFor('the window naming the file by its tags', async () =>
      (await (await app.session.byTestId('now-title')).text()) === SECOND.title);
    assert.equal(await (await app.session.byTestId('now-artist')).text(), SECOND.artist);
    // The setting is on: the file's folder joined the library, and its song with it.
    await app.session.waitFor('the folder of the opened file in the library', async () => {
      const folders = await app.session.execute(`return window.__TAURI_INTERNALS__.invoke('library_folders').then((f) => f.map((x) => x.path))`);
      const count = await app.session.execute(`return window.__TAURI_INTERNALS__.invoke('track_count', {})`);
      return folders.includes(elsewhere) && count === 1;
    }, 30_000);
  });
});

describe('the window', () => {
  let scratch;
  let app;

  before(() => {
    scratch = makeScratch('loft-e2e-window-');
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }, HOOK_LIMIT);

  it('opens again at the size and place it was left, on the playlist that was open', TEST_LIMIT, async () => {
    const profileDir = join(scratch, 'profile');
    const homeDir = join(scratch, 'home');
    app = await launchApp({ profileDir, homeDir });
    const playlist = await app.session.execute(`return window.__TAURI_INTERNALS__.invoke('create_playlist', { name: 'Road trip' })`);
    const item = await app.session.waitFor('the playlist in the sidebar', () => app.session.find(`[data-playlist-id="${playlist.id}"]`));
    await item.click();
    await app.session.waitFor('the last view saved', async () =>
      (await app.session.execute(`return window.__TAURI_INTERNALS__.invoke('get_settings').then((s) => s.last_view)`)) === `playlists/${playlist.id}`);
    const wanted = { x: 40, y: 30, width: 1000, height: 640 };
    await app.session.call('POST', '/window/rect', wanted);
    const set = await app.session.waitFor('the window resized', async () => {
      const rect = await app.session.call('GET', '/window/rect');
      return rect.width === wanted.width && rect.height === wanted.height ? rect : null;
    });
    // Written a moment after the window settles, so that a session ended otherwise than by
    // quitting (as the harness ends it) keeps it too.
    const stateFile = join(homeDir, '.config', 'app.loft.player', '.window-state.json');
    await app.session.waitFor('the window state written', () => {
      try {
        return JSON.parse(readFileSync(stateFile, 'utf8')).main?.width === set.width;
      } catch {
        return false;
      }
    });
    await app.close();
    app.removeScratch();

    app = await launchApp({ profileDir, homeDir });
    const rect = await app.session.waitFor('the window at its old size', async () => {
      const r = await app.session.call('GET', '/window/rect');
      return r.width === set.width && r.height === set.height ? r : null;
    });
    assert.deepEqual([rect.x, rect.y], [set.x, set.y], 'the window opens where it was');
    await app.session.waitFor('the playlist open again', async () =>
      (await (await app.session.find(`[data-playlist-id="${playlist.id}"]`)).attribute('aria-current')) === 'page');
    assert.equal(await (await app.session.byTestId('nav-songs')).attribute('aria-current'), null);
  });
});

describe('the queue across a restart', () => {
  let scratch;
  let app;

  before(() => {
    scratch = makeScratch('loft-e2e-queue-');
    makeSongs(join(scratch, 'music'), { seconds: 30 });
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }, HOOK_LIMIT);

  const status = () => app.session.execute(`return window.__TAURI_INTERNALS__.invoke('player_status')`);

  it('comes back paused on the same track at the same place', TEST_LIMIT, async () => {
    const profileDir = join(scratch, 'profile');
    app = await launchApp({ profileDir, args: [join(scratch, 'music')] });
    await app.session.waitFor('the folder playing', async () => (await status()).state === 'playing', 30_000);
    await playerctl('next');
    await app.session.waitFor('the second song', async () => (await status()).index === 1);
    await playerctl('position', '12');
    await app.session.waitFor('the position at 12 s', async () => (await status()).position_secs >= 12);
    await playerctl('pause');
    const left = await app.session.waitFor('paused', async () => {
      const s = await status();
      return s.state === 'paused' ? s : null;
    });
    await app.close();
    app.removeScratch();

    app = await launchApp({ profileDir });
    const back = await app.session.waitFor('the queue restored', async () => {
      const s = await status();
      return s.queue.length === SONGS.length ? s : null;
    }, 30_000);
    assert.equal(back.state, 'paused');
    assert.equal(back.index, 1);
    assert.ok(Math.abs(back.position_secs - left.position_secs) < 1, `restored at ${back.position_secs} s, left at ${left.position_secs} s`);
    const second = SONGS_IN_FOLDER_ORDER[1];
    await app.session.waitFor('the window naming the paused song', async () =>
      (await (await app.session.byTestId('now-title')).text()) === second.title);
    await app.session.waitFor(`MPRIS showing "${second.title}" paused`, async () => {
      const now = await mprisNow();
      return now?.title === second.title && now.status === 'Paused';
    }, 20_000);
    await playerctl('play');
    await app.session.waitFor('playing again', async () => (await status()).state === 'playing');
  });
});
