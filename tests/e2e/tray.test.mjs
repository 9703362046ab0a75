// The tray icon, read and clicked as a desktop's tray host does: a StatusNotifierWatcher on the
// private session bus (lib/status-notifier-watcher.py) takes the app's registration, and the
// test reads the icon's menu and clicks its items over D-Bus (com.canonical.dbusmenu). What the
// clicks change is checked through MPRIS, WebDriver and the X server.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { launchApp, repoRoot } from './lib/app.mjs';
import { makeScratch } from './lib/cleanup.mjs';
import { SONGS_IN_FOLDER_ORDER, makeSongs } from './lib/fixtures.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';
import { mapped, mprisNow, playerctl, run } from './lib/desktop.mjs';

async function gdbus(...args) {
  try {
    const { stdout } = await run('gdbus', ['call', '--session', ...args], { timeout: 10_000 });
    return stdout.trim();
  } catch (error) {
    throw new Error(`gdbus ${args.join(' ')}: ${error.stderr || error.message}`);
  }
}

/** The menu's items in order, as `{ id, label, enabled }`, from dbusmenu's GetLayout text. */
function parseLayout(text) {
  const items = [];
  for (const match of text.matchAll(/<\((\d+), \{([^}]*)\}/g)) {
    const props = match[2];
    if (props.includes("'type': <'separator'>")) continue;
    const label = props.match(/'label': <'((?:[^'\\]|\\.)*)'>/)?.[1];
    if (label === undefined) continue;
    items.push({ id: Number(match[1]), label, enabled: !props.includes("'enabled': <false>") });
  }
  return items;
}

describe('the tray icon', () => {
  let scratch;
  let watcher;
  let registered = '';
  let app;
  let item;
  const inFolderOrder = SONGS_IN_FOLDER_ORDER;
  const label = (song) => `${song.title} — ${song.artist}`;

  before(async () => {
    scratch = makeScratch('loft-e2e-tray-');
    const music = join(scratch, 'music');
    // Long enough that no song ends on its own while the menu is clicked.
    makeSongs(music, { seconds: 120 });
    // Debian's python3, which has the GObject bindings (python3-gi).
    watcher = spawn('/usr/bin/python3', [join(repoRoot, 'tests', 'e2e', 'lib', 'status-notifier-watcher.py')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    watcher.stdout.on('data', (data) => (registered += data.toString()));
    const deadline = Date.now() + 10_000;
    while (!registered.includes('ready')) {
      if (Date.now() > deadline || watcher.exitCode !== null) throw new Error('the tray host stand-in did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    app = await launchApp({ args: [music] });
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    watcher?.kill();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }, HOOK_LIMIT);

  const menu = async () => parseLayout(await gdbus('--dest', item.bus, '--object-path', item.menu, '--method', 'com.canonical.dbusmenu.GetLayout', '--', '0', '-1', '@as []'));
  const labels = async () => (await menu()).map((entry) => entry.label);
  async function click(text) {
    const entry = (await menu()).find((candidate) => candidate.label === text);
    assert.ok(entry, `no "${text}" in the tray menu: ${JSON.stringify(await labels())}`);
    await gdbus('--dest', item.bus, '--object-path', item.menu, '--method', 'com.canonical.dbusmenu.Event', '--', String(entry.id), 'clicked', '<0>', '0');
  }
  const waitMenu = (what, check) =>
    app.session.waitFor(what, async () => {
      const items = await labels();
      return check(items) ? items : null;
    }, 20_000);
  const waitMpris = (what, check) =>
    app.session.waitFor(what, async () => {
      const now = await mprisNow();
      return now && check(now) ? now : null;
    }, 30_000);

  it('registers with the tray host and shows what plays', TEST_LIMIT, async () => {
    const line = await app.session.waitFor('the tray icon registered', () =>
      registered.split('\n').find((entry) => entry.startsWith(':') || entry.startsWith('org.')));
    const [bus, path] = line.trim().split(' ');
    const menuPath = await gdbus('--dest', bus, '--object-path', path, '--method', 'org.freedesktop.DBus.Properties.Get', 'org.kde.StatusNotifierItem', 'Menu');
    item = { bus, menu: menuPath.match(/objectpath '([^']+)'/)[1] };
    const first = inFolderOrder[0];
    const shown = await waitMenu('the playing song in the menu', (items) => items.includes(label(first)) && items.includes('Pause'));
    for (const wanted of ['Next', 'Previous', 'Show Loft', 'Mini player', 'Quit']) {
      assert.ok(shown.includes(wanted), `"${wanted}" is missing from ${JSON.stringify(shown)}`);
    }
    const nowPlaying = (await menu()).find((entry) => entry.label === label(first));
    assert.equal(nowPlaying.enabled, false, 'the song line is a label, not an action');
  });

  it('pauses, plays and skips from the menu', TEST_LIMIT, async () => {
    await click('Pause');
    await waitMpris('Paused', (now) => now.status === 'Paused');
    await waitMenu('"Play" in the menu', (items) => items.includes('Play'));
    await click('Play');
    await waitMpris('Playing', (now) => now.status === 'Playing');
    await click('Next');
    await waitMpris(`"${inFolderOrder[1].title}" after Next`, (now) => now.title === inFolderOrder[1].title);
    await waitMenu('the next song in the menu', (items) => items.includes(label(inFolderOrder[1])));
    await click('Previous');
    await waitMpris(`"${inFolderOrder[0].title}" after Previous`, (now) => now.title === inFolderOrder[0].title);
  });

  it('switches to the mini player and back', TEST_LIMIT, async () => {
    await click('Mini player');
    await app.session.waitFor('the mini player shown and the main window hidden', async () =>
      (await mapped('Loft mini player')) === true && (await mapped('Loft')) === false);
    assert.equal((await app.session.windowHandles()).length, 2);
    // "Show Loft" means the full window: the mini player gives way to it, never both shown.
    await click('Show Loft');
    await app.session.waitFor('the main window instead of the mini player', async () =>
      (await mapped('Loft')) === true && (await mapped('Loft mini player')) === null);
    await click('Mini player');
    await app.session.waitFor('the mini player again', async () =>
      (await mapped('Loft mini player')) === true && (await mapped('Loft')) === false);
    await click('Mini player');
    await app.session.waitFor('the main window back and the mini player closed', async () =>
      (await mapped('Loft')) === true && (await mapped('Loft mini player')) === null);
  });

  it('quits from the menu', TEST_LIMIT, async () => {
    await click('Quit');
    await app.session.waitFor('the app gone from the bus', async () => {
      try {
        await playerctl('status');
        return false;
      } catch {
        return true;
      }
    });
    // pgrep exits with 1 when nothing matches.
    const running = () =>
      run('pgrep', ['-g', String(app.driverPid), '-x', 'loft-desktop']).then(
        ({ stdout }) => stdout.trim(),
        (error) => (error.code === 1 ? '' : Promise.reject(error)),
      );
    await app.session.waitFor('no loft-desktop process left', async () => (await running()) === '', 10_000);
  });
});
