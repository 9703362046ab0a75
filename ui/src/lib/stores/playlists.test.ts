import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks, mockCommands } from '../testing';
import { playlists, uniqueName } from './playlists.svelte';
import { commandPayloads } from '../bindings.payloads';
import { notices } from './notices.svelte';
import { trackMenuItems } from './menu.svelte';
import type { Playlist, Track } from '../bindings';

const playlist = (id: string, name: string): Playlist => ({
  id, name, created_at: 0, updated_at: 0, track_count: 0, duration_ms: 0, unavailable_count: 0,
});

afterEach(() => {
  clearMocks();
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
    mockCommands(async <T>(command: string, args?: Record<string, unknown>) => {
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

  it('lists the lines of an imported file that matched nothing', async () => {
    const report = commandPayloads.importM3u8.result;
    mockCommands((command) => {
      if (command === 'import_m3u8') return report;
      if (command === 'playlists') return [report.playlist];
      return [];
    });
    await playlists.importFile();
    expect(playlists.message).toBe('Imported 2 songs into “Road trip”. 1 line matched nothing in the library:');
    expect(playlists.details).toEqual(['Line 4: ../Music/missing.flac (no library track at this path)']);
  });

  it('lists the songs an export wrote only as a comment', async () => {
    const report = commandPayloads.exportM3u8.result;
    mockCommands(() => report);
    await playlists.exportFile(playlist('p1', 'Road trip'));
    expect(playlists.message).toBe('Saved 1 song to /home/ada/Road trip.m3u8. 1 song was written only as a comment:');
    expect(playlists.details).toEqual(['2. Sigur Rós - Glósóli (in the locker only, no file on this computer)']);
  });

  it('reports a failed edit', async () => {
    mockCommands(async () => {
      throw { kind: 'not_found', message: 'no playlist p9' };
    });
    await playlists.rename('p9', 'x');
    expect(notices.items.map((n) => n.message)).toEqual(['no playlist p9']);
  });
});
