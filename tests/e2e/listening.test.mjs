// Hearts, stars and rule playlists in the real app: a track loved and rated in the song list
// keeps both after a restart and shows in the built-in Loved playlist; a rule playlist made in
// the editor picks it, is still there after the restart, and is edited and deleted; the
// now-playing bar loves and rates what plays, whose play then counts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { launchApp } from './lib/app.mjs';
import { makeScratch } from './lib/cleanup.mjs';
import { SONGS, makeSongs } from './lib/fixtures.mjs';
import { addFolderByPath, songRows } from './lib/library.mjs';
import { HOOK_LIMIT, TEST_LIMIT } from './lib/limits.mjs';

describe('hearts, ratings and smart playlists', () => {
  let scratch;
  let app;
  const chosen = SONGS[2];

  before(async () => {
    scratch = makeScratch('loft-e2e-listening-');
    makeSongs(join(scratch, 'music'));
    app = await launchApp({ profileDir: join(scratch, 'profile') });
    await addFolderByPath(app.session, join(scratch, 'music'));
  }, HOOK_LIMIT);

  after(async () => {
    await app?.close();
    app?.removeScratch();
    rmSync(scratch, { recursive: true, force: true });
  }, HOOK_LIMIT);

  /** `selector` inside `title`'s row of the song list. */
  const inRow = async (title, selector) => {
    const rows = await songRows(app.session, SONGS.length);
    const match = rows.find((r) => r.text.includes(title));
    assert.ok(match, `${title} is not in the song list`);
    const id = await match.row.attribute('data-track-id');
    return app.session.find(`[data-testid="song-list"] [data-track-id="${id}"] ${selector}`);
  };
  const loved = async (title) => (await (await inRow(title, '[data-testid="love"]')).attribute('data-loved')) === 'true';
  const rating = async (title) => Number(await (await inRow(title, '[data-testid="rating"]')).attribute('data-rating'));
  const smartRows = async (count) =>
    app.session.waitFor(`${count} songs in the smart playlist`, async () => {
      const rows = await app.session.findAll('[data-testid="smart-view"] [data-testid="track-row"]');
      if (rows.length !== count) return null;
      const texts = await Promise.all(rows.map((r) => r.text()));
      return texts.every((t) => t.trim()) ? texts : null;
    });

  it('loves and rates a track from the song list', TEST_LIMIT, async () => {
    await (await inRow(chosen.title, '[data-testid="love"]')).click();
    await app.session.waitFor('the heart filled', () => loved(chosen.title));
    await (await inRow(chosen.title, '[data-testid="rating-star"][data-star="4"]')).click();
    await app.session.waitFor('four stars', async () => (await rating(chosen.title)) === 4);
    // A click on the lit last star takes the rating back; another sets it again.
    await (await inRow(chosen.title, '[data-testid="rating-star"][data-star="4"]')).click();
    await app.session.waitFor('no stars', async () => (await rating(chosen.title)) === 0);
    await (await inRow(chosen.title, '[data-testid="rating-star"][data-star="4"]')).click();
    await app.session.waitFor('four stars again', async () => (await rating(chosen.title)) === 4);
    for (const other of SONGS.filter((s) => s !== chosen)) {
      assert.equal(await loved(other.title), false, `${other.title} was not loved`);
      assert.equal(await rating(other.title), 0, `${other.title} was not rated`);
    }
  });

  it('lists it in the built-in Loved playlist', TEST_LIMIT, async () => {
    await (await app.session.find('[data-testid="smart-item"][data-smart-id="builtin-loved"]')).click();
    const texts = await smartRows(1);
    assert.ok(texts[0].includes(chosen.title), texts[0]);
  });

  it('makes a rule playlist in the editor that picks it', TEST_LIMIT, async () => {
    await (await app.session.byTestId('smart-new')).click();
    await app.session.waitFor('the rule editor', () => app.session.byTestId('rule-editor'));
    const name = await app.session.byTestId('rule-name');
    await name.sendKeys('Four stars and up');
    // The first row starts as "Genre is …": make it "Rating ≥ 4".
    await app.session.execute(
      `const set = (testId, value) => {
         const select = document.querySelector('[data-testid="' + testId + '"]');
         select.value = value;
         select.dispatchEvent(new Event('change', { bubbles: true }));
       };
       set('rule-field', 'rating');`,
    );
    await app.session.waitFor('the rating operators', async () => {
      const options = await app.session.findAll('[data-testid="rule-op"] option[value="ge"]');
      return options.length === 1;
    });
    await app.session.execute(
      `const select = document.querySelector('[data-testid="rule-op"]');
       select.value = 'ge';
       select.dispatchEvent(new Event('change', { bubbles: true }));`,
    );
    const value = await app.session.byTestId('rule-value');
    await value.clear();
    await value.sendKeys('9');
    await (await app.session.byTestId('rule-save')).click();
    // A value the core would refuse is named before anything is saved.
    const error = await app.session.waitFor('the editor to refuse 9 stars', () => app.session.byTestId('rule-error'));
    assert.match(await error.text(), /Rating/);
    await value.clear();
    await value.sendKeys('4');
    await (await app.session.byTestId('rule-save')).click();
    const title = await app.session.waitFor('the saved playlist', async () => {
      const found = await app.session.findAll('[data-testid="smart-name"]');
      return found.length === 1 ? found[0].text() : null;
    });
    assert.equal(title, 'Four stars and up');
    const texts = await smartRows(1);
    assert.ok(texts[0].includes(chosen.title), texts[0]);
    const items = await app.session.findAll('[data-testid="smart-item"][data-builtin="false"]');
    assert.equal(items.length, 1);
  });

  it('keeps the heart, the stars and the rule playlist after a restart', TEST_LIMIT, async () => {
    await app.close();
    app.removeScratch();
    app = await launchApp({ profileDir: join(scratch, 'profile') });
    await app.session.waitFor('the heart after the restart', () => loved(chosen.title));
    assert.equal(await rating(chosen.title), 4);
    const item = await app.session.waitFor('the rule playlist after the restart', async () => {
      const found = await app.session.findAll('[data-testid="smart-item"][data-builtin="false"]');
      return found.length === 1 ? found[0] : null;
    });
    await item.click();
    const texts = await smartRows(1);
    assert.ok(texts[0].includes(chosen.title), texts[0]);
  });

  it('loves and rates the playing track from the now-playing bar, and counts its play', TEST_LIMIT, async () => {
    const playing = SONGS[0];
    const rows = await songRows(app.session, SONGS.length);
    await app.session.doubleClick(rows.find((r) => r.text.includes(playing.title)).row);
    await app.session.waitFor('the song playing', async () => (await (await app.session.byTestId('now-title')).text()) === playing.title);
    const heart = await app.session.waitFor('the heart in the bar', () => app.session.byTestId('now-love'));
    assert.equal(await heart.attribute('data-loved'), 'false');
    await heart.click();
    await app.session.waitFor('the bar heart filled', async () => (await (await app.session.byTestId('now-love')).attribute('data-loved')) === 'true');
    await (await app.session.find('[data-testid="now-rating"] [data-star="5"]')).click();
    await app.session.waitFor('five stars in the bar', async () => (await (await app.session.byTestId('now-rating')).attribute('data-rating')) === '5');
    // The song list says the same.
    await app.session.waitFor('the heart in the list', () => loved(playing.title));
    assert.equal(await rating(playing.title), 5);
    // Half of a four-second song heard is a play: the Plays and Last played columns fill.
    const plays = await app.session.waitFor('the play counted', async () => {
      const text = await (await inRow(playing.title, '[data-column="plays"]')).text();
      return text.trim() === '1' ? text : null;
    }, 30000);
    assert.equal(plays.trim(), '1');
    assert.match(await (await inRow(playing.title, '[data-column="last_played"]')).text(), /just now|min ago/);
  });

  it('takes a heart back from the Loved playlist, which then drops the song', TEST_LIMIT, async () => {
    await (await app.session.find('[data-testid="smart-item"][data-smart-id="builtin-loved"]')).click();
    const both = await smartRows(2);
    const index = both.findIndex((t) => t.includes(SONGS[0].title));
    assert.ok(index >= 0, JSON.stringify(both));
    const hearts = await app.session.findAll('[data-testid="smart-view"] [data-testid="love"]');
    await hearts[index].click();
    const left = await smartRows(1);
    assert.ok(left[0].includes(chosen.title), left[0]);
    assert.equal(await loved(SONGS[0].title), false);
  });

  it('edits the rule playlist and deletes it', TEST_LIMIT, async () => {
    await (await app.session.find('[data-testid="smart-item"][data-builtin="false"]')).click();
    await smartRows(2);
    await (await app.session.waitFor('the edit button', () => app.session.byTestId('smart-edit'))).click();
    const value = await app.session.waitFor('the editor with the saved rule', async () => {
      const input = await app.session.byTestId('rule-value');
      return (await input.property('value')) === '4' ? input : null;
    });
    await value.clear();
    await value.sendKeys('5');
    await (await app.session.byTestId('rule-save')).click();
    const texts = await smartRows(1);
    assert.ok(texts[0].includes(SONGS[0].title), texts[0]);
    assert.match(await (await app.session.byTestId('smart-rule')).text(), /Rating ≥ 5 stars/);

    await (await app.session.byTestId('smart-delete')).click();
    await app.session.waitFor('the playlist gone', async () => (await app.session.findAll('[data-testid="smart-item"][data-builtin="false"]')).length === 0);
    assert.equal((await app.session.findAll('[data-testid="smart-item"][data-builtin="true"]')).length, 5);
  });
});
