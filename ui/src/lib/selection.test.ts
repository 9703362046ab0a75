import { describe, expect, it } from 'vitest';
import { clickRow, emptySelection, moveFocus } from './selection';

const plain = { toggle: false, extend: false };

describe('selection', () => {
  it('selects one row on a plain click', () => {
    const s = clickRow(clickRow(emptySelection(), 3, plain), 5, plain);
    expect([...s.selected]).toEqual([5]);
    expect(s.anchor).toBe(5);
  });

  it('toggles with Ctrl and extends from the anchor with Shift', () => {
    let s = clickRow(emptySelection(), 2, plain);
    s = clickRow(s, 6, { toggle: true, extend: false });
    expect([...s.selected].sort()).toEqual([2, 6]);
    s = clickRow(s, 6, { toggle: true, extend: false });
    expect([...s.selected]).toEqual([2]);
    s = clickRow(clickRow(emptySelection(), 4, plain), 1, { toggle: false, extend: true });
    expect([...s.selected].sort()).toEqual([1, 2, 3, 4]);
    expect(s.anchor).toBe(4);
  });

  it('moves the focus with arrows, clamped to the list, extending with Shift', () => {
    let { selection, focus } = moveFocus(emptySelection(), 0, 1, 3, false);
    expect(focus).toBe(1);
    ({ selection, focus } = moveFocus(selection, focus, 5, 3, true));
    expect(focus).toBe(2);
    expect([...selection.selected].sort()).toEqual([1, 2]);
    ({ focus } = moveFocus(selection, focus, -10, 3, false));
    expect(focus).toBe(0);
  });
});
