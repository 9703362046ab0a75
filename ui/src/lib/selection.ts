// Multi-select the way file managers and music players do it: a click selects one row,
// Ctrl/Cmd-click toggles one, Shift-click extends from the anchor.

export interface Selection {
  selected: Set<number>;
  anchor: number | null;
}

export const emptySelection = (): Selection => ({ selected: new Set(), anchor: null });

export function clickRow(
  selection: Selection,
  index: number,
  modifiers: { toggle: boolean; extend: boolean },
): Selection {
  if (modifiers.extend && selection.anchor !== null) {
    const [from, to] = selection.anchor <= index ? [selection.anchor, index] : [index, selection.anchor];
    const selected = modifiers.toggle ? new Set(selection.selected) : new Set<number>();
    for (let i = from; i <= to; i++) selected.add(i);
    return { selected, anchor: selection.anchor };
  }
  if (modifiers.toggle) {
    const selected = new Set(selection.selected);
    if (selected.has(index)) selected.delete(index);
    else selected.add(index);
    return { selected, anchor: index };
  }
  return { selected: new Set([index]), anchor: index };
}

/** Arrow keys move the focus; with Shift they extend the selection like Shift-click. */
export function moveFocus(
  selection: Selection,
  focus: number,
  delta: number,
  rowCount: number,
  extend: boolean,
): { selection: Selection; focus: number } {
  if (rowCount === 0) return { selection, focus: 0 };
  const next = Math.min(rowCount - 1, Math.max(0, focus + delta));
  const nextSelection = extend
    ? clickRow({ ...selection, anchor: selection.anchor ?? focus }, next, { toggle: false, extend: true })
    : { selected: new Set([next]), anchor: next };
  return { selection: nextSelection, focus: next };
}
