// A test server program from crates/testkit (loft-test-s3, loft-test-dav): started as a child
// that prints `listening PORT` once it accepts connections, killed with the test run, and
// stopped on demand the way a server that went away stops (the port closes, connections drop).

import { spawn } from 'node:child_process';
import { forget, killOnExit } from './cleanup.mjs';

export class TestServer {
  constructor(binary) {
    this.binary = binary;
    this.port = 0;
    this.child = null;
  }

  /** Starts the program with `args` and waits until it says which port it listens on. */
  async launch(args) {
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    killOnExit(child.pid);
    const errors = [];
    child.stderr.on('data', (d) => errors.push(d.toString()));
    this.port = await new Promise((resolvePort, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d.toString();
        const match = /listening (\d+)/.exec(out);
        if (match) resolvePort(Number(match[1]));
      });
      child.on('exit', (code) => reject(new Error(`${this.binary} exited (${code}): ${errors.join('')}`)));
      child.on('error', reject);
    });
    return this;
  }

  /** Stops answering: the process ends, so the port closes and connections drop. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise((done) => {
      child.once('exit', done);
      child.kill('SIGKILL');
    });
    forget(child.pid);
    this.child = null;
  }
}
