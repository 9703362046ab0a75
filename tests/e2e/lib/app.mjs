// Starts the real Loft desktop app under tauri-driver (which drives WebKitWebDriver) with a
// profile and an audio setup of its own, and hands the test a WebDriver session.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Session } from './webdriver.mjs';

export const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
export const artifactsDir = join(repoRoot, 'tests', 'e2e', '.artifacts');

/** The app binary the harness drives; `tests/run-e2e.sh` builds it with the UI embedded. */
export const appBinary = process.env.LOFT_APP_BINARY ?? join(repoRoot, 'target', 'debug', 'loft-desktop');

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
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

async function waitForPort(port, child, output, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`tauri-driver exited early:\n${output.join('')}`);
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`tauri-driver did not listen on port ${port}:\n${output.join('')}`);
}

/**
 * Launches the app. `profileDir` keeps the profile between launches of one test (to test a
 * restart); by default every launch gets a fresh one.
 */
export async function launchApp({ profileDir, env = {} } = {}) {
  if (!existsSync(appBinary)) {
    throw new Error(`the app binary ${appBinary} is missing: run tests/run-e2e.sh, which builds it`);
  }
  const scratch = mkdtempSync(join(tmpdir(), 'loft-e2e-'));
  const dataDir = profileDir ?? join(scratch, 'profile');
  const home = join(scratch, 'home');
  const capturePath = join(scratch, 'capture.raw');
  writeAlsaCapture(home, capturePath);

  const port = await freePort();
  const nativePort = await freePort();
  const output = [];
  const driver = spawn(
    process.env.TAURI_DRIVER ?? 'tauri-driver',
    ['--port', String(port), '--native-port', String(nativePort)],
    {
      env: { ...process.env, HOME: home, LOFT_DATA_DIR: dataDir, RUST_LOG: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group holds the driver, WebKitWebDriver and the app, so closing
      // can end all three even when one of them hangs.
      detached: true,
    },
  );
  driver.stdout.on('data', (d) => output.push(d.toString()));
  driver.stderr.on('data', (d) => output.push(d.toString()));

  try {
    await waitForPort(port, driver, output);
    // Wall-clock times (ms since the epoch) for benchmarks: creating the session starts the app.
    const sessionRequestedAt = Date.now();
    const session = await Session.create(`http://127.0.0.1:${port}`, {
      'tauri:options': { application: appBinary },
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
  try {
    const members = execFileSync('pgrep', ['-g', String(pgid)], { encoding: 'utf8' }).trim().split(/\s+/);
    return members.length === 1 && Number(members[0]) === pgid;
  } catch {
    return true;
  }
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
  // Whatever still holds the driver's output pipes must not keep this test process alive.
  driver.stdout.destroy();
  driver.stderr.destroy();
}
