// An S3 server for the end-to-end tests: loft-test-s3 (crates/testkit), a real S3 service
// (s3s over a folder, SigV4 checked) that a test can stop to take the locker offline and start
// again on the same port with the same objects.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './app.mjs';
import { forget, killOnExit } from './cleanup.mjs';

export const S3_KEY = 'loft-test-key';
export const S3_SECRET = 'loft-test-secret-0123456789';
export const S3_BUCKET = 'loft';

const binary = process.env.LOFT_TEST_S3_BINARY ?? join(repoRoot, 'target', 'debug', 'loft-test-s3');

export class S3Server {
  /** `receiveRate`: bytes per second the server takes from each connection (a slow uplink). */
  constructor(root, { receiveRate = null } = {}) {
    this.root = root;
    this.receiveRate = receiveRate;
    this.port = 0;
    this.child = null;
  }

  /** Starts the server (on the port it had before, after a stop) and waits until it listens. */
  async start() {
    const args = [
      '--root',
      this.root,
      ...(this.port ? ['--port', String(this.port)] : []),
      ...(this.receiveRate ? ['--receive-rate', String(this.receiveRate)] : []),
    ];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
      child.on('exit', (code) => reject(new Error(`loft-test-s3 exited (${code}): ${errors.join('')}`)));
      child.on('error', reject);
    });
    return this;
  }

  get endpoint() {
    return `http://127.0.0.1:${this.port}`;
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
