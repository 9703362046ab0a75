// An S3 server for the end-to-end tests: loft-test-s3 (crates/testkit), a real S3 service
// (s3s over a folder, SigV4 checked) that a test can stop to take the locker offline and start
// again on the same port with the same objects.

import { join } from 'node:path';
import { repoRoot } from './app.mjs';
import { TestServer } from './server.mjs';

export const S3_KEY = 'loft-test-key';
export const S3_SECRET = 'loft-test-secret-0123456789';
export const S3_BUCKET = 'loft';

const binary = process.env.LOFT_TEST_S3_BINARY ?? join(repoRoot, 'target', 'debug', 'loft-test-s3');

export class S3Server extends TestServer {
  /** `receiveRate`: bytes per second the server takes from each connection (a slow uplink). */
  constructor(root, { receiveRate = null } = {}) {
    super(binary);
    this.root = root;
    this.receiveRate = receiveRate;
  }

  /** Starts the server (on the port it had before, after a stop) and waits until it listens. */
  start() {
    return this.launch([
      '--root',
      this.root,
      ...(this.port ? ['--port', String(this.port)] : []),
      ...(this.receiveRate ? ['--receive-rate', String(this.receiveRate)] : []),
    ]);
  }

  get endpoint() {
    return `http://127.0.0.1:${this.port}`;
  }
}
