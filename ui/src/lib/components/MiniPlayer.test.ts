import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import MiniPlayer from './MiniPlayer.svelte';

function props(overrides: Record<string, unknown> = {}) {
  const calls: string[] = [];
  // Buttons hand their click event on; only what a control reports (a position, on or off) is kept.
  const record = (name: string) => (value?: unknown) =>
    calls.push(typeof value === 'number' || typeof value === 'boolean' ? `${name}:${value}` : name);
  return {
    calls,
    props: {
      title: 'Hoppípolla',
      artist: 'Sigur Rós',
      positionMs: 61_000,
      durationMs: 268_000,
      playing: true,
      onTop: false,
      ontoggle: record('toggle'),
      onnext: record('next'),
      onprev: record('prev'),
      onseek: record('seek'),
      ontop: record('top'),
      onexpand: record('expand'),
      ...overrides,
    },
  };
}

describe('MiniPlayer', () => {
  it('shows the track, where it is and how long it is', () => {
    render(MiniPlayer, { props: props().props });
    expect(screen.getByTestId('mini-title').textContent).toBe('Hoppípolla');
    expect(screen.getByTestId('mini-artist').textContent).toBe('Sigur Rós');
    expect(screen.getByTestId('mini-elapsed').textContent).toBe('1:01');
    expect(screen.getByTestId('mini-duration').textContent).toBe('4:28');
    expect(screen.getByTestId('mini-play-pause').getAttribute('aria-label')).toBe('Pause');
  });

  it('reports each control', async () => {
    const { calls, props: given } = props();
    render(MiniPlayer, { props: given });
    await fireEvent.click(screen.getByTestId('mini-play-pause'));
    await fireEvent.click(screen.getByTestId('mini-next'));
    await fireEvent.click(screen.getByTestId('mini-prev'));
    await fireEvent.change(screen.getByTestId('mini-seek'), { target: { value: '120000' } });
    await fireEvent.click(screen.getByTestId('mini-on-top'));
    await fireEvent.click(screen.getByTestId('mini-expand'));
    expect(calls).toEqual(['toggle', 'next', 'prev', 'seek:120000', 'top:true', 'expand']);
  });

  it('turns "on top" off when it is on, and says which it is', async () => {
    const { calls, props: given } = props({ onTop: true });
    render(MiniPlayer, { props: given });
    const pin = screen.getByTestId('mini-on-top');
    expect(pin.getAttribute('aria-pressed')).toBe('true');
    await fireEvent.click(pin);
    expect(calls).toEqual(['top:false']);
  });

  it('disables the transport with nothing to play, but can still go back', () => {
    render(MiniPlayer, { props: props({ title: null, artist: null, playing: false }).props });
    expect(screen.getByTestId('mini-title').textContent).toBe('Nothing playing');
    for (const id of ['mini-play-pause', 'mini-next', 'mini-prev', 'mini-seek']) {
      expect((screen.getByTestId(id) as HTMLButtonElement).disabled).toBe(true);
    }
    expect((screen.getByTestId('mini-expand') as HTMLButtonElement).disabled).toBe(false);
  });
});
