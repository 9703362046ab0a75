import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks, mockCommands } from '../testing';
import { fileTitle, player } from './player.svelte';
import { notices } from './notices.svelte';
import { connectivity } from './connectivity.svelte';
import type { Track } from '../bindings';

function track(id: number, title: string): Track {
  return {
    id, title, artist: 'Artist', artists: ['Artist'], album: 'Album', album_artist: 'Artist',
    track_no: id, track_total: null, disc_no: null, disc_total: null, year: null, date: null, genre: '', composer: '',
    duration_ms: 180_000, sample_rate: 44100, channels: 2, bit_depth: 16, bitrate_kbps: null,
    replaygain: { track_gain_db: null, track_peak: null, album_gain_db: null, album_peak: null },
    musicbrainz: { recording_id: null, track_id: null, release_id: null, artist_id: null, release_artist_id: null },
    compilation: false, format: 'flac', cover_id: null, play_count: 0, last_played_ms: null, loved: false, rating: null, resume_ms: null, added_at: 0, path: `/m/${id}.flac`, sha256: null, source: 'local',
    offline: 'none',
  };
}

afterEach(() => {
  clearMocks();
  connectivity.lockerReachable = true;
  notices.items = [];
});

describe('player store', () => {
  it('refuses, with a plain notice, a locker-only track while the locker cannot be reached', async () => {
    const calls: string[] = [];
    mockCommands(async <T>(command: string) => {
      calls.push(command);
      return undefined as T;
    });
    const cloud: Track = { ...track(7, 'Cloud Song'), source: 'locker', path: null };
    const kept: Track = { ...track(8, 'Kept Song'), source: 'locker', path: null, offline: 'pinned' };
    connectivity.lockerReachable = false;
    await player.playTracks([cloud, kept], 0);
    expect(calls).toEqual([]);
    expect(notices.items.map((n) => n.message).join()).toContain('Cloud Song');
    await player.playTracks([cloud, kept], 1);
    expect(calls).toEqual(['play_tracks']);
  });

  it('sends the ids to play and follows the engine events', async () => {
    const calls: [string, unknown][] = [];
    mockCommands(async <T>(command: string, args?: Record<string, unknown>) => {
      calls.push([command, args]);
      return undefined as T;
    });
    await player.playTracks([track(1, 'One'), track(2, 'Two')], 1);
    expect(calls).toEqual([['play_tracks', { ids: [1, 2], start: 1 }]]);

    player.handleEvent({ type: 'queue_changed', track_ids: [1, 2], shuffle: false, repeat: 'all' });
    player.handleEvent({ type: 'track_changed', index: 1, track_id: 2, name: '/m/2.flac', duration_secs: 180 });
    player.handleEvent({ type: 'playback_state', state: 'playing' });
    player.handleEvent({ type: 'playback_position', index: 1, track_id: 2, position_secs: 12.5, duration_secs: 180 });

    expect(player.current?.title).toBe('Two');
    expect(player.state).toBe('playing');
    expect(player.positionMs).toBe(12_500);
    expect(player.durationMs).toBe(180_000);
    expect(player.repeat).toBe('all');
    expect(player.queueTracks.map((t) => t?.title)).toEqual(['One', 'Two']);
  });

  it('names a file played from outside the library by its file name', () => {
    mockCommands(async <T>() => [] as T);
    player.handleEvent({ type: 'track_changed', index: 0, track_id: 0, name: '/home/me/Downloads/01 Song.v2.mp3', duration_secs: 3 });
    expect(player.fileTitle).toBe('01 Song.v2');
    expect(fileTitle('C:\\Music\\b.flac')).toBe('b');
    player.handleEvent({ type: 'track_changed', index: 1, track_id: 2, name: '/m/2.flac', duration_secs: 180 });
    expect(player.fileTitle).toBeNull();
  });

  it('names such a file by its tags once read, unless the queue has moved on', async () => {
    const asked: unknown[] = [];
    const answers: ((tags: unknown) => void)[] = [];
    mockCommands(async <T>(command: string, args?: Record<string, unknown>) => {
      if (command !== 'playing_file_tags') return [] as T;
      asked.push(args?.index);
      return new Promise<T>((resolve) => answers.push(resolve as (tags: unknown) => void));
    });
    const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
    player.handleEvent({ type: 'track_changed', index: 3, track_id: 0, name: '/m/hoppipolla.flac', duration_secs: 268 });
    expect(player.fileTitle).toBe('hoppipolla');
    await settle();
    answers[0]!({ title: 'Hoppípolla', artist: 'Sigur Rós', album: 'Takk...', duration_secs: 268 });
    await settle();
    expect([player.fileTitle, player.fileArtist]).toEqual(['Hoppípolla', 'Sigur Rós']);

    // The answer for a file that is no longer playing comes last, and is dropped.
    player.handleEvent({ type: 'track_changed', index: 4, track_id: 0, name: '/m/glosoli.flac', duration_secs: 370 });
    player.handleEvent({ type: 'track_changed', index: 5, track_id: 0, name: '/m/saeglopur.flac', duration_secs: 490 });
    await settle();
    expect(asked).toEqual([3, 4, 5]);
    answers[2]!({ title: 'Sæglópur', artist: 'Sigur Rós', album: 'Takk...', duration_secs: 490 });
    await settle();
    answers[1]!({ title: 'Glósóli', artist: 'Sigur Rós', album: 'Takk...', duration_secs: 370 });
    await settle();
    expect([player.fileTitle, player.fileArtist]).toEqual(['Sæglópur', 'Sigur Rós']);
  });

  it('cycles repeat off → all → one → off', async () => {
    const modes: unknown[] = [];
    mockCommands(async <T>(_command: string, args?: Record<string, unknown>) => {
      modes.push(args?.mode);
      return undefined as T;
    });
    for (const repeat of ['off', 'all', 'one'] as const) {
      player.handleEvent({ type: 'queue_changed', track_ids: [], shuffle: false, repeat });
      await player.cycleRepeat();
    }
    expect(modes).toEqual(['all', 'one', 'off']);
  });

  it('shows a playback error to the user with the file named', () => {
    player.handleEvent({ type: 'playback_error', index: 0, name: '/m/bad.flac', kind: 'corrupt', message: 'truncated' });
    expect(notices.items.at(-1)?.message).toBe('/m/bad.flac: truncated');
  });

  it('reports a refused command instead of failing silently', async () => {
    mockCommands(async () => {
      throw { kind: 'audio', message: 'no output device could be opened' };
    });
    await player.togglePlay();
    expect(notices.items.map((n) => n.message)).toEqual(['no output device could be opened']);
  });
});
