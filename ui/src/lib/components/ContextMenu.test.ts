import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import ContextMenu from './ContextMenu.svelte';

describe('ContextMenu', () => {
  it('focuses the first item, moves with arrows, picks with a click and closes', async () => {
    const picked: string[] = [];
    let closed = 0;
    render(ContextMenu, {
      props: {
        x: 10,
        y: 10,
        onclose: () => closed++,
        items: [
          { label: 'Play', action: () => picked.push('play') },
          { label: 'Show in folder', action: () => picked.push('show'), disabled: true },
          { label: 'Play next', action: () => picked.push('next') },
        ],
      },
    });
    const items = screen.getAllByRole('menuitem') as HTMLButtonElement[];
    expect(document.activeElement).toBe(items[0]);
    await fireEvent.keyDown(screen.getByRole('menu'), { key: 'ArrowDown' });
    expect(document.activeElement).toBe(items[2]);
    await fireEvent.click(items[2]!);
    expect(picked).toEqual(['next']);
    expect(closed).toBe(1);
    await fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' });
    expect(closed).toBe(2);
  });
});
