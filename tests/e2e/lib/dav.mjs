// A WebDAV server for the end-to-end tests: loft-test-dav (crates/testkit), dav-server over a
// folder, asking for one user name and password.

import { join } from 'node:path';
import { repoRoot } from './app.mjs';
import { TestServer } from './server.mjs';

export const DAV_USER = 'loft';
export const DAV_PASSWORD = 'secret';

const binary = process.env.LOFT_TEST_DAV_BINARY ?? join(repoRoot, 'target', 'debug', 'loft-test-dav');

export class DavServer extends TestServer {
  constructor(root) {
    super(binary);
    this.root = root;
  }

  start() {
    return this.launch(['--root', this.root]);
  }

  get url() {
    return `http://127.0.0.1:${this.port}/`;
  }
}
