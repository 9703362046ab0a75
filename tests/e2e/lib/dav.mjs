// A WebDAV server for the end-to-end tests: loft-test-dav (crates/testkit), dav-server over a
// folder, asking for one user name and password.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './app.mjs';
import { forget, killOnExit } from './cleanup.mjs';

export const DAV_USER = 'loft';
export const DAV_PASSWORD = 'secret';

const binary = process.env.LOFT_TEST_DAV_BINARY ?? join(repoRoot, 'target', 'debug', 'loft-test-dav');

export class DavServer {
  constructor(root) {
    this.root = root;
    this.port = 0;
    this.child = null;
  }

  /** Starts the server and waits until it listens. */
  async start() {
    const child = spawn(binary, ['--root', this.root], { stdio: ['ignore', 'pipe', 'pipe'] });
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
      child.on('exit', (code) => reject(new Error(`loft-test-dav exited (${code}): ${errors.join('')}`)));
      child.on('error', reject);
    });
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.port}/`;
  }

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
