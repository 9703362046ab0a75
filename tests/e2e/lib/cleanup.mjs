// Processes a test starts (tauri-driver with the app, the S3 server) must not outlive the test
// process, however it ends: its tests done, Node's runner forcing it to exit after a test that
// passed its time limit, or a signal from the whole run's time limit. tauri-driver runs in a
// process group of its own, which a signal to the test's group does not reach, so it is
// killed here.

import { constants } from 'node:os';

/** pid → whether it leads a process group to kill as a whole. */
const owned = new Map();

export function killOnExit(pid, { group = false } = {}) {
  owned.set(pid, group);
}

/** The process was stopped the ordinary way and needs no killing. */
export function forget(pid) {
  owned.delete(pid);
}

function killOwned() {
  for (const [pid, group] of owned) {
    try {
      process.kill(group ? -pid : pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  owned.clear();
}

process.on('exit', killOwned);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  // Exiting runs the 'exit' listener above; the default action of these signals would not.
  process.once(signal, () => process.exit(128 + constants.signals[signal]));
}
