// An end-to-end encrypted locker in the real app, on each kind of storage: S3 (loft-test-s3),
// WebDAV (loft-test-dav) and a folder. The first computer creates it encrypted through the
// connect form and gets a recovery key; dropped songs upload; the storage then holds no title,
// artist, audio magic or file hash anywhere, in names or bytes; a second computer sees the
// locker locked, is refused a wrong passphrase with a message that says so, unlocks with the
// right one, lists the songs and plays one through to the capture file.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { artifactsDir, launchApp } from './lib/app.mjs';
import { makeScratch } from './lib/cleanup.mjs';
import { DAV_PASSWORD, DAV_USER, DavServer } from './lib/dav.mjs';
import { SONGS, makeSongs } from './lib/fixtures.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';
import { S3_BUCKET, S3_KEY, S3_SECRET, S3Server } from './lib/s3.mjs';

const PASSPHRASE = 'violet harbour lantern seven';
const UPLOADED = SONGS.slice(0, 2);

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map((name) => join(dir, String(name)))
    .filter((path) => statSync(path).isFile());
}

function soundingAfter(path, from) {
  if (!existsSync(path)) return false;
  const bytes = readFileSync(path);
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return true;
  return false;
}

/** What each kind of locker needs: how to fill the form, where its objects land on disk. */
const BACKENDS = [
  {
    name: 's3',
    async start(scratch) {
      this.server = await new S3Server(join(scratch, 's3')).start();
      this.env = { AWS_ACCESS_KEY_ID: S3_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET };
      this.storage = join(scratch, 's3', S3_BUCKET);
    },
    async fill(form) {
      await form.click('locker-kind-s3');
      await form.set('s3-endpoint', this.server.endpoint);
      await form.set('s3-bucket', S3_BUCKET);
      await form.set('s3-prefix', 'sealed-music');
    },
  },
  {
    name: 'webdav',
    async start(scratch) {
      this.server = await new DavServer(join(scratch, 'dav')).start();
      this.env = { LOFT_WEBDAV_USER: DAV_USER, LOFT_WEBDAV_PASSWORD: DAV_PASSWORD };
      this.storage = join(scratch, 'dav');
    },
    async fill(form) {
      await form.click('locker-kind-webdav');
      await form.set('dav-url', `${this.server.url}music`);
    },
  },
  {
    name: 'folder',
    async start(scratch) {
      this.server = null;
      this.env = {};
      this.storage = join(scratch, 'folder-locker');
    },
    async fill(form) {
      await form.click('locker-kind-folder');
      await form.set('folder-path', this.storage);
    },
  },
];

// LOFT_E2E_BACKENDS=s3,folder runs only those, when working on one.
const chosen = process.env.LOFT_E2E_BACKENDS?.split(',') ?? BACKENDS.map((backend) => backend.name);

for (const backend of BACKENDS.filter((candidate) => chosen.includes(candidate.name))) {
  describe(`an encrypted locker on ${backend.name}`, () => {
    let scratch;
    let app;
    let songs;
    const env = () => ({ ...backend.env, LOFT_NO_KEYCHAIN: '1' });

    before(async () => {
      scratch = makeScratch(`loft-e2e-sealed-${backend.name}-`);
      songs = makeSongs(join(scratch, 'music'), { songs: UPLOADED, seconds: 5 });
      await backend.start(scratch);
      app = await launchApp({ profileDir: join(scratch, 'first'), env: env() });
    }, HOOK_LIMIT);

    after(async () => {
      await app?.close();
      app?.removeScratch();
      await backend.server?.stop();
      rmSync(scratch, { recursive: true, force: true });
    }, HOOK_LIMIT);

    const byTestId = (id) => app.session.byTestId(id);
    const form = {
      click: async (id) => (await app.session.waitFor(id, () => byTestId(id))).click(),
      set: async (id, value) => {
        const input = await app.session.waitFor(id, () => byTestId(id));
        await input.clear();
        await input.sendKeys(value);
      },
    };
    const rows = () => app.session.findAll('[data-testid="track-row"]');
    const notices = async () =>
      Promise.all((await app.session.findAll('[data-testid="notice"]')).map((notice) => notice.text()));

    async function openConnectForm() {
      await (await app.session.waitFor('the sidebar', () => byTestId('nav-locker'))).click();
      await app.session.waitFor('the connect form', () => byTestId('locker-connect'));
      await backend.fill(form);
    }

    it('creates the locker encrypted and shows the recovery key once', TEST_LIMIT, async () => {
      await openConnectForm();
      await form.click('locker-encrypt-new');
      await form.set('locker-passphrase', PASSPHRASE);
      await form.set('locker-passphrase-again', PASSPHRASE);
      await form.click('locker-connect');
      const key = await app.session.waitFor('the recovery key', async () => {
        const found = await app.session.findAll('[data-testid="locker-recovery-key"]');
        return found.length === 1 ? found[0].text() : null;
      }, 60000);
      assert.match(key, /^([A-Z2-7]{4}-){7}[A-Z2-7]{4}$/);
      const badge = await byTestId('locker-encrypted-badge');
      assert.equal(await badge.attribute('data-locked'), 'false');
      await form.click('locker-recovery-key-done');
      assert.equal((await app.session.findAll('[data-testid="locker-recovery-key"]')).length, 0);
    });

    it('uploads dropped songs', TEST_LIMIT, async () => {
      await app.session.execute(
        `return window.__TAURI_INTERNALS__.invoke('plugin:event|emit', {
           event: 'tauri://drag-drop',
           payload: { paths: arguments[0], position: { x: 400, y: 300 } },
         })`,
        [songs],
      );
      await app.session.waitFor('every song uploaded', async () => {
        const items = await app.session.findAll('[data-testid="upload-item"]');
        const states = await Promise.all(items.map((item) => item.attribute('data-state')));
        return states.length === songs.length && states.every((state) => state === 'done');
      }, 120000);
      // The catalog's edits go out with the next sync; make it now, before this computer closes.
      await form.click('sync-now');
      await app.session.waitFor('the sync done', async () => (await (await byTestId('sync-now')).text()) === 'Sync now', 60000);
    });

    it('leaves the storage nothing to read: no tag, no audio magic, no file hash', TEST_LIMIT, async () => {
      const stored = filesUnder(backend.storage);
      assert.ok(stored.length > 5, `objects in the locker: ${stored.length}`);
      const secrets = UPLOADED.flatMap((song) => [song.title, song.artist, song.album]).map((text) => Buffer.from(text));
      const hashes = songs.map((path) => createHash('sha256').update(readFileSync(path)).digest('hex'));
      const magics = ['fLaC', 'OggS', 'ID3', 'ftyp', 'RIFF'].map((text) => Buffer.from(text));
      // 64 bytes from the start, the middle and the end of each song: found only if stored as is.
      const samples = songs.flatMap((path) => {
        const bytes = readFileSync(path);
        const middle = Math.floor(bytes.length / 2);
        return [bytes.subarray(0, 64), bytes.subarray(middle, middle + 64), bytes.subarray(bytes.length - 64)];
      });
      for (const path of stored) {
        const name = relative(backend.storage, path);
        const bytes = readFileSync(path);
        for (const hash of hashes) {
          assert.ok(!name.includes(hash), `${name} names a file's SHA-256`);
          assert.ok(!bytes.includes(Buffer.from(hash)), `${name} holds a file's SHA-256`);
        }
        if (name.endsWith('locker.json')) continue;
        // Three or four bytes turn up in this much random data by chance ("ID3" did), so a short
        // string is looked for where a format puts its magic: the head of an object stored in
        // the clear. Longer ones (most tags) cannot turn up by chance and are looked for anywhere.
        for (const secret of [...secrets, ...magics]) {
          const searched = secret.length >= 8 ? bytes : bytes.subarray(0, 16);
          assert.ok(!searched.includes(secret), `${name} holds "${secret}"`);
        }
        for (const sample of samples) {
          assert.ok(!bytes.includes(sample), `${name} holds 64 bytes of a song as they are on disk`);
        }
      }
    });

    it('asks a second computer for the passphrase, refuses a wrong one, and plays after unlocking', TEST_LIMIT, async () => {
      try {
        await secondComputer();
      } catch (error) {
        mkdirSync(artifactsDir, { recursive: true });
        const logs = join(scratch, 'second', 'logs');
        const log = filesUnder(logs).map((path) => readFileSync(path, 'utf8')).join('\n');
        writeFileSync(join(artifactsDir, `encrypted-${backend.name}-app.log`), app.output.join('') + log);
        writeFileSync(join(artifactsDir, `encrypted-${backend.name}.png`), await app.session.screenshot());
        throw error;
      }
    });

    async function secondComputer() {
      await app.close();
      app.removeScratch();
      app = await launchApp({ profileDir: join(scratch, 'second'), env: env() });
      await openConnectForm();
      await form.click('locker-connect');
      const badge = await app.session.waitFor('the locked badge', () => byTestId('locker-encrypted-badge'), 60000);
      assert.equal(await badge.attribute('data-locked'), 'true');

      await form.set('locker-unlock-secret', 'not the passphrase');
      await form.click('locker-unlock');
      const refusal = await app.session.waitFor('the refusal', async () => {
        const found = await notices();
        return found.find((text) => /passphrase/i.test(text)) ?? null;
      }, 60000);
      assert.match(refusal, /does not unlock/);
      assert.equal(await (await byTestId('locker-encrypted-badge')).attribute('data-locked'), 'true');

      await form.set('locker-unlock-secret', PASSPHRASE);
      await form.click('locker-unlock');
      await app.session.waitFor('the unlocked badge', async () =>
        (await (await byTestId('locker-encrypted-badge')).attribute('data-locked')) === 'false', 60000);

      await (await byTestId('nav-songs')).click();
      const texts = await app.session.waitFor('the locker songs', async () => {
        const found = await Promise.all((await rows()).map((row) => row.text()));
        return found.length === UPLOADED.length ? found : null;
      }, 60000);
      for (const song of UPLOADED) assert.ok(texts.some((text) => text.includes(song.title)), `${song.title}: ${texts}`);

      const before = existsSync(app.capturePath) ? readFileSync(app.capturePath).length : 0;
      await app.session.doubleClick((await rows())[0]);
      await app.session.waitFor('a streamed song playing', async () => {
        const title = await (await byTestId('now-title')).text();
        return UPLOADED.some((song) => song.title === title);
      }, 30000);
      await app.session.waitFor('its sound captured', () => soundingAfter(app.capturePath, before + 44100 * 2), 30000);
      await (await byTestId('play-pause')).click();
    }
  });
}
