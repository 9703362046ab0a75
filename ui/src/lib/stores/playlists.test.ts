import { afterEach, describe, expect, it } from 'vitest';
import { invoke } from '@tauri-apps/api/core';
import { setInvoke } from '../ipc';
import { playlists, uniqueName } from './playlists.svelte';
import { notices } from './notices.svelte';
import { trackMenuItems } from './menu.svelte';
import type { Playlist, Track } from '../types';

const playlist = (id: string, name: string): Playlist => ({
  id, name, created_at: 0, updated_at: 0, track_count: 0, duration_ms: 0, unavailable_count: 0,
});

afterEach(() => {
  setInvoke(invoke);
  notices.items = [];
  playlists.list = [];
});

describe('playlists', () => {
  it('names a new playlist so it never collides', () => {
    expect(uniqueName('New playlist', [])).toBe('New playlist');
    expect(uniqueName('New playlist', [{ name: 'New playlist' }, { name: 'New playlist 2' }])).toBe('New playlist 3');
  });

  it('adds tracks by id and says what it did', async () => {
    const calls: unknown[] = [];
    setInvoke(async <T>(command: string, args?: Record<string, unknown>) => {
      calls.push([command, args]);
      return ['e1'] as T;
    });
    playlists.list = [playlist('p1', 'Road trip')];
    await playlists.add('p1', [{ id: 7, title: 'Halo' } as Track]);
    expect(calls).toEqual([['playlist_add', { id: 'p1', trackIds: [7], at: null }]]);
    expect(playlists.message).toBe('Added “Halo” to Road trip.');
  });

  it('offers every playlist in the track menu', () => {
    playlists.list = [playlist('p1', 'Road trip'), playlist('p2', 'Focus')];
    const labels = trackMenuItems([{ id: 1 } as Track], () => {}).map((item) => item.label);
    expect(labels).toContain('Add to “Road trip”');
    expect(labels).toContain('Add to “Focus”');
    expect(labels).toContain('Add to a new playlist');
  });

  it('reports a failed edit', async () => {
    setInvoke(async () => {
      throw { kind: 'not_found', message: 'no playlist p9' };
    });
    await playlists.rename('p9', 'x');
    expect(notices.items.map((n) => n.message)).toEqual(['no playlist p9']);
  });
});
