import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import NowPlayingBar from './NowPlayingBar.svelte';

const idle = {
  title: null,
  artist: null,
  positionMs: 0,
  durationMs: 0,
  playing: false,
  volume: 0.8,
};

describe('NowPlayingBar', () => {
  it('says nothing is playing and disables the transport when idle', () => {
    render(NowPlayingBar, { props: { ...idle, onvolume: () => {} } });
    expect(screen.getByTestId('now-title').textContent).toBe('Nothing playing');
    for (const id of ['play-pause', 'next', 'prev', 'seek']) {
      expect((screen.getByTestId(id) as HTMLButtonElement).disabled).toBe(true);
    }
    expect((screen.getByTestId('volume') as HTMLInputElement).disabled).toBe(false);
  });

  it('shows the track and its times while playing', () => {
    render(NowPlayingBar, {
      props: { ...idle, title: 'Hoppípolla', artist: 'Sigur Rós', positionMs: 61_000, durationMs: 268_000, playing: true, onvolume: () => {} },
    });
    expect(screen.getByTestId('now-title').textContent).toBe('Hoppípolla');
    expect(screen.getByTestId('now-artist').textContent).toBe('Sigur Rós');
    expect(screen.getByText('1:01')).toBeTruthy();
    expect(screen.getByText('4:28')).toBeTruthy();
    expect(screen.getByTestId('play-pause').getAttribute('aria-label')).toBe('Pause');
  });

  it('reports a volume change', async () => {
    const volumes: number[] = [];
    render(NowPlayingBar, { props: { ...idle, onvolume: (v: number) => volumes.push(v) } });
    const slider = screen.getByTestId('volume') as HTMLInputElement;
    await fireEvent.change(slider, { target: { value: '0.35' } });
    expect(volumes).toEqual([0.35]);
  });

  it('switches to the mini player', async () => {
    let asked = 0;
    render(NowPlayingBar, { props: { ...idle, onvolume: () => {}, onmini: () => asked++ } });
    await fireEvent.click(screen.getByTestId('mini-player-open'));
    expect(asked).toBe(1);
  });
});
