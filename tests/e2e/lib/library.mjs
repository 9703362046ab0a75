// Steps several end-to-end tests share: adding a music folder the way a user types it.

export async function addFolderByPath(session, path) {
  await (await session.byTestId('settings')).click();
  const input = await session.waitFor('the folder path field', () => session.byTestId('folder-path'));
  await input.clear();
  await input.sendKeys(path);
  await (await session.byTestId('folder-path-add')).click();
  await session.waitFor(`${path} in the folder list`, async () => {
    const items = await session.findAll('[data-testid="folder-item"]');
    const texts = await Promise.all(items.map((item) => item.text()));
    return texts.some((text) => text.includes(path));
  });
}

/** The songs list's rows once `count` of them show text. */
export async function songRows(session, count) {
  await (await session.byTestId('nav-songs')).click();
  return session.waitFor(`${count} song rows`, async () => {
    const rows = await session.findAll('[data-testid="track-row"]');
    if (rows.length !== count) return null;
    const texts = await Promise.all(rows.map((row) => row.text()));
    return texts.every((t) => t.trim()) ? rows.map((row, i) => ({ row, text: texts[i] })) : null;
  });
}
