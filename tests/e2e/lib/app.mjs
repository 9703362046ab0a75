// Starts the real Loft desktop app under tauri-driver (which drives WebKitWebDriver) with a
// profile and an audio setup of its own, and hands the test a WebDriver session.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { forget, killOnExit, makeScratch } from './cleanup.mjs';
import { Session } from './webdriver.mjs';

export const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
export const artifactsDir = join(repoRoot, 'tests', 'e2e', '.artifacts');

/** The app binary the harness drives; `tests/run-e2e.sh` builds it with the UI embedded. */
export const appBinary = process.env.LOFT_APP_BINARY ?? join(repoRoot, 'target', 'debug', 'loft-desktop');

/**
 * `count` distinct free ports on 127.0.0.1. All of them are held open at once while the kernel
 * picks them, so it cannot hand out the same port twice (asking for one free port at a time
 * once gave tauri-driver and WebKitWebDriver the same port: tauri-driver then forwarded every
 * request to itself and the run never ended).
 */
async function reservePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise((listening, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', listening);
      });
    }
    return servers.map((server) => server.address().port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((closed) => server.close(() => closed()))));
  }
}

/**
 * An ALSA configuration that replaces the default output with the `file` plugin, so whatever
 * the app plays through cpal lands in `capturePath` as raw 16-bit stereo 44.1 kHz samples.
 * The samples go through pace-to-file.mjs, which takes them at real-time speed the way a
 * sound card would. ALSA reads the configuration from $HOME/.asoundrc, so it applies to the
 * app under test and nothing else.
 */
export const CAPTURE_BYTES_PER_SECOND = 44100 * 2 * 2;

export function writeAlsaCapture(home, capturePath) {
  mkdirSync(home, { recursive: true });
  const pacer = join(import.meta.dirname, 'pace-to-file.mjs');
  writeFileSync(
    join(home, '.asoundrc'),
    `pcm.!default {
  type plug
  slave {
    pcm "loftcapture"
    format S16_LE
    rate 44100
    channels 2
  }
}
pcm.loftcapture {
  type file
  slave.pcm "null"
  file "|exec '${process.execPath}' '${pacer}' '${capturePath}' ${CAPTURE_BYTES_PER_SECOND}"
  format "raw"
}
`,
  );
}

/** Another program took one of the ports between reservePorts() and the driver's start. */
class PortTakenError extends Error {}

/** The inodes of the sockets listening on `port` (IPv4 or IPv6), from the kernel's tables. */
function listeningSockets(port) {
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let rows;
    try {
      rows = readFileSync(table, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const row of rows) {
      const [, local, , state, , , , , , inode] = row.trim().split(/\s+/);
      // State 0A is LISTEN; the local address ends in the port, in hex.
      if (state === '0A' && parseInt(local.split(':').pop(), 16) === port) inodes.add(inode);
    }
  }
  return inodes;
}

/** Whether process `pid` holds one of the sockets `inodes`. */
function holdsSocket(pid, inodes) {
  let fds;
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      return match !== null && inodes.has(match[1]);
    } catch {
      return false;
    }
  });
}

function groupMembers(pgid) {
  try {
    return execFileSync('pgrep', ['-g', String(pgid)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

/**
 * Waits until tauri-driver itself listens on `port` and WebKitWebDriver, which it started in
 * its process group, listens on `nativePort`. A port that a process outside the group holds
 * is a PortTakenError: talking to it would reach some other program.
 */
async function waitForDriver(driver, port, nativePort, output, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let missing;
  while (Date.now() < deadline) {
    if (driver.exitCode !== null) {
      const log = output.join('');
      if (/can not listen/.test(log)) throw new PortTakenError(`port ${port} was taken:\n${log}`);
      throw new Error(`tauri-driver exited early:\n${log}`);
    }
    const members = groupMembers(driver.pid);
    const others = members.filter((pid) => pid !== driver.pid);
    const driverSockets = listeningSockets(port);
    const nativeSockets = listeningSockets(nativePort);
    const driverListens = holdsSocket(driver.pid, driverSockets);
    const nativeListens = others.some((pid) => holdsSocket(pid, nativeSockets));
    if (driverListens && nativeListens) return;
    if (driverSockets.size > 0 && !members.some((pid) => holdsSocket(pid, driverSockets))) {
      throw new PortTakenError(`tauri-driver's port ${port} is held by another process`);
    }
    if (nativeSockets.size > 0 && !others.some((pid) => holdsSocket(pid, nativeSockets))) {
      throw new PortTakenError(`WebKitWebDriver's port ${nativePort} is held by another process`);
    }
    missing = driverListens ? `WebKitWebDriver on port ${nativePort}` : `tauri-driver on port ${port}`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${missing} did not listen within ${timeoutMs / 1000} s:\n${output.join('')}`);
}

/**
 * Starts tauri-driver (which starts WebKitWebDriver) on two ports of its own and waits until
 * both listen. Should another program take a port in the moment between picking it and the
 * driver listening on it, it tries again with new ones.
 */
async function startDriver(env) {
  for (let attempt = 1; ; attempt++) {
    const [port, nativePort] = await reservePorts(2);
    const output = [];
    const driver = spawn(
      process.env.TAURI_DRIVER ?? 'tauri-driver',
      ['--port', String(port), '--native-port', String(nativePort)],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group holds the driver, WebKitWebDriver and the app, so closing
        // can end all three even when one of them hangs.
        detached: true,
      },
    );
    killOnExit(driver.pid, { group: true });
    driver.stdout.on('data', (d) => output.push(d.toString()));
    driver.stderr.on('data', (d) => output.push(d.toString()));
    try {
      await waitForDriver(driver, port, nativePort, output);
      return { driver, port, output };
    } catch (error) {
      await stopGroup(driver);
      if (!(error instanceof PortTakenError) || attempt === 3) throw error;
    }
  }
}

/**
 * Launches the app. `profileDir` keeps the profile between launches of one test (to test a
 * restart); by default every launch gets a fresh one. `homeDir` does the same for the home
 * folder, where the window's size and place are kept. `args` are the app's command line (files
 * to open).
 */
export async function launchApp({ profileDir, homeDir, env = {}, args = [] } = {}) {
  if (!existsSync(appBinary)) {
    throw new Error(`the app binary ${appBinary} is missing: run tests/run-e2e.sh, which builds it`);
  }
  const scratch = makeScratch('loft-e2e-');
  const dataDir = profileDir ?? join(scratch, 'profile');
  const home = homeDir ?? join(scratch, 'home');
  const capturePath = join(scratch, 'capture.raw');
  writeAlsaCapture(home, capturePath);

  const appEnv = {
    ...process.env,
    HOME: home,
    LOFT_DATA_DIR: dataDir,
    RUST_LOG: 'info',
    ...env,
  };
  const { driver, port, output } = await startDriver(appEnv);

  try {
    // Wall-clock times (ms since the epoch) for benchmarks: creating the session starts the app.
    const sessionRequestedAt = Date.now();
    const session = await Session.create(`http://127.0.0.1:${port}`, {
      'tauri:options': { application: appBinary, args },
    });
    const sessionCreatedAt = Date.now();
    // Creating the session can return before the webview has loaded the page (seen on a
    // loaded CI machine), so a test's first find would miss the shell. Wait for it here.
    try {
      await session.waitFor('the Loft window to show its shell', () => session.byTestId('nav-songs'), 30000);
    } catch (error) {
      throw new Error(`${error.message}\napp output:\n${output.join('')}`);
    }
    return {
      session,
      dataDir,
      capturePath,
      output,
      /** The environment the app runs in, for starting a second instance of it. */
      env: appEnv,
      /** The tauri-driver process; the app and its WebKit processes are its descendants. */
      driverPid: driver.pid,
      timing: { sessionRequestedAt, sessionCreatedAt },
      async close() {
        try {
          await session.close();
        } catch {
          // The app may already be gone; the process group is stopped below either way.
        }
        // Give the app a moment to quit on its own (it saves state on the way out).
        await waitForGroupExit(driver.pid, 5000);
        await stopGroup(driver);
      },
      removeScratch() {
        rmSync(scratch, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopGroup(driver);
    throw error;
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForGroupExit(pgid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid) && Date.now() < deadline) {
    // tauri-driver itself stays up until it is told to stop; only its children matter here.
    if (driverOnly(pgid)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when the only process left in the group is the group leader (tauri-driver). */
function driverOnly(pgid) {
  const members = groupMembers(pgid);
  return members.length === 0 || (members.length === 1 && members[0] === pgid);
}

async function stopGroup(driver) {
  for (const [signal, waitMs] of [
    ['SIGTERM', 3000],
    ['SIGKILL', 3000],
  ]) {
    if (!groupAlive(driver.pid)) break;
    try {
      process.kill(-driver.pid, signal);
    } catch {
      break;
    }
    const deadline = Date.now() + waitMs;
    while (groupAlive(driver.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }
  forget(driver.pid);
  // Whatever still holds the driver's output pipes must not keep this test process alive.
  driver.stdout.destroy();
  driver.stderr.destroy();
}
