// A music folder added in the real app shows its songs, and search finds them as you type.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { launchApp } from './lib/app.mjs';
import { makeScratch } from './lib/cleanup.mjs';
import { SONGS, makeSongs } from './lib/fixtures.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';

describe('the library', () => {
  let app;
  let music;

  before(async () => {
    music = makeScratch('loft-e2e-music-');
    makeSongs(music);
    app = await launchApp();
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    rmSync(music, { recursive: true, force: true });
  }, HOOK_LIMIT);

  const rowTexts = async () => {
    const rows = await app.session.findAll('[data-testid="track-row"]');
    return Promise.all(rows.map((row) => row.text()));
  };

  it('starts with an empty state that leads to adding a folder', TEST_LIMIT, async () => {
    const main = await app.session.waitFor('the main view', () => app.session.byTestId('main-view'));
    await app.session.waitFor('the empty state', async () => /Your library is empty/.test(await main.text()));
  });

  it('adds a folder and shows its songs with their tags', TEST_LIMIT, async () => {
    await (await app.session.byTestId('settings')).click();
    const input = await app.session.waitFor('the folder path field', () => app.session.byTestId('folder-path'));
    await input.sendKeys(music);
    await (await app.session.byTestId('folder-path-add')).click();
    await app.session.waitFor('the folder in the list', async () => {
      const items = await app.session.findAll('[data-testid="folder-item"]');
      return items.length === 1 && (await items[0].text()).includes(music);
    });

    await (await app.session.byTestId('nav-songs')).click();
    const texts = await app.session.waitFor('three songs', async () => {
      const t = await rowTexts();
      return t.length === SONGS.length && t.every((x) => x.trim()) ? t : null;
    });
    for (const song of SONGS) {
      const row = texts.find((t) => t.includes(song.title));
      assert.ok(row, `no row shows ${song.title}: ${JSON.stringify(texts)}`);
      assert.ok(row.includes(song.artist) && row.includes(song.album), `row lacks tags: ${row}`);
    }
  });

  it('finds songs as you type, ignoring case and accents', TEST_LIMIT, async () => {
    const search = await app.session.byTestId('search');
    await search.sendKeys('beyonce');
    const found = await app.session.waitFor('a search result', async () => {
      const t = await rowTexts();
      return t.length === 1 ? t : null;
    });
    assert.match(found[0], /Halo/);
    const results = await (await app.session.byTestId('search-results')).text();
    assert.match(results, /Beyoncé/);

    await search.clear();
    await search.sendKeys('sigur');
    await app.session.waitFor('Sigur Rós', async () => {
      const t = await rowTexts();
      return t.length === 1 && t[0].includes('Hoppípolla');
    });
  });

  it('shows the albums as a grid', TEST_LIMIT, async () => {
    const search = await app.session.byTestId('search');
    await search.clear();
    await (await app.session.byTestId('nav-albums')).click();
    const cards = await app.session.waitFor('three album cards', async () => {
      const c = await app.session.findAll('[data-testid="album-card"]');
      return c.length === SONGS.length ? c : null;
    });
    const titles = await Promise.all(cards.map((c) => c.text()));
    assert.ok(titles.some((t) => t.includes('Mezzanine')), JSON.stringify(titles));
  });
});
