// The Linux package as built: the .deb run-e2e.sh bundles installs a desktop entry that offers
// Loft for the audio and playlist types it plays (so "Open with" lists it) and passes the files
// on, with the binary it names.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './lib/app.mjs';
import { TEST_LIMIT } from './lib/limits.mjs';

const deb = process.env.LOFT_DEB;

function listing() {
  return execFileSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8' });
}

function packagedFile(path) {
  // dpkg-deb writes the data archive to stdout; tar takes the one file out of it.
  const archive = execFileSync('dpkg-deb', ['--fsys-tarfile', deb], { maxBuffer: 1 << 30 });
  return execFileSync('tar', ['-xO', path], { input: archive, encoding: 'utf8', maxBuffer: 1 << 30 });
}

/** The `key=value` lines of a desktop entry's main group. */
function entry(text) {
  return Object.fromEntries(
    text.split('\n').filter((line) => line.includes('=')).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

const mimeTypes = (line) => line.split(';').filter(Boolean);

describe('the .deb', { skip: deb ? false : 'LOFT_DEB is not set: run tests/run-e2e.sh, which bundles it' }, () => {
  it('installs a desktop entry with the audio MIME types, which passes files to the app', TEST_LIMIT, () => {
    const files = listing();
    const desktopPath = files.match(/\s(usr\/share\/applications\/\S+\.desktop)$/m)?.[1];
    assert.ok(desktopPath, `no desktop entry in the package:\n${files}`);
    assert.match(files, /\susr\/bin\/loft-desktop$/m, 'the package installs the app');

    const installed = entry(packagedFile(desktopPath));
    const template = entry(readFileSync(join(repoRoot, 'src-tauri', 'linux', 'loft-desktop.desktop'), 'utf8'));
    const declared = mimeTypes(installed.MimeType ?? '');
    assert.deepEqual(declared, mimeTypes(template.MimeType), 'the MIME types of src-tauri/linux/loft-desktop.desktop');
    for (const type of ['audio/mpeg', 'audio/flac', 'audio/ogg', 'audio/mp4', 'audio/x-wav', 'audio/x-mpegurl']) {
      assert.ok(declared.includes(type), `${type} is not declared: ${installed.MimeType}`);
    }
    assert.equal(installed.Exec, 'loft-desktop %F');
    assert.equal(installed.Type, 'Application');
    assert.ok(!Object.values(installed).some((value) => value.includes('{{')), 'a placeholder left unfilled');
  });
});
