import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import QueuePanel from './QueuePanel.svelte';
import type { Track } from '../bindings';

const t = (id: number, title: string) => ({ id, title, artist: 'A', duration_ms: 61_000 }) as Track;

describe('QueuePanel', () => {
  it('lists the queue, marks the current entry and removes and moves entries', async () => {
    const calls: unknown[] = [];
    render(QueuePanel, {
      props: {
        tracks: [t(1, 'One'), t(2, 'Two'), t(3, 'Three')],
        current: 1,
        onremove: (i: number) => calls.push(['remove', i]),
        onmove: (from: number, to: number) => calls.push(['move', from, to]),
        onclear: () => calls.push(['clear']),
        onclose: () => {},
      },
    });
    const items = screen.getAllByTestId('queue-item');
    expect(items.map((i) => i.textContent?.includes('Two'))).toEqual([false, true, false]);
    expect(items[1]!.getAttribute('aria-selected')).toBe('true');

    await fireEvent.keyDown(items[2]!, { key: 'ArrowUp', altKey: true });
    await fireEvent.click(screen.getByLabelText('Remove One from the queue'));
    await fireEvent.click(screen.getByTestId('queue-clear'));
    expect(calls).toEqual([['move', 2, 1], ['remove', 0], ['clear']]);
  });

  it('says what to do when the queue is empty', () => {
    render(QueuePanel, { props: { tracks: [], current: null, onremove() {}, onmove() {}, onclear() {}, onclose() {} } });
    expect(screen.getByTestId('queue').textContent).toMatch(/queue is empty/);
  });
});
