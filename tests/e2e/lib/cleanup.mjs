// Processes a test starts (tauri-driver with the app, the S3 server) must not outlive the test
// process, however it ends: its tests done, Node's runner forcing it to exit after a test that
// passed its time limit, or a signal from the whole run's time limit. tauri-driver runs in a
// process group of its own, which a signal to the test's group does not reach, so it is
// killed here. The same goes for the scratch directories the tests make, which a test's
// `after` hook removes when it gets to run.

import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

/** pid → whether it leads a process group to kill as a whole. */
const owned = new Map();

export function killOnExit(pid, { group = false } = {}) {
  owned.set(pid, group);
}

/** The process was stopped the ordinary way and needs no killing. */
export function forget(pid) {
  owned.delete(pid);
}

const scratchDirs = new Set();

/** A new directory in the system's temporary one, removed when this process exits at the latest. */
export function makeScratch(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.add(dir);
  return dir;
}

function cleanUp() {
  for (const [pid, group] of owned) {
    try {
      process.kill(group ? -pid : pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  owned.clear();
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
  scratchDirs.clear();
}

process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  // Exiting runs the 'exit' listener above; the default action of these signals would not.
  process.once(signal, () => process.exit(128 + constants.signals[signal]));
}
