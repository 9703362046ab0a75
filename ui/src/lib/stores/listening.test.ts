import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks, mockCommands } from '../testing';
import { commandPayloads } from '../bindings.payloads';
import { listening } from './listening.svelte';
import { notices } from './notices.svelte';
import { player } from './player.svelte';
import { locker } from './locker.svelte';
import { trackMenuItems } from './menu.svelte';
import type { Track } from '../bindings';

const track = commandPayloads.setLoved.result[0]!;

afterEach(() => {
  clearMocks();
  notices.items = [];
  player.known = new Map();
  listening.pending = null;
  locker.status = null;
  listening.smartList = [];
  listening.editing = null;
});

describe('listening', () => {
  it('sends a heart for every chosen track and shows the new state in the now-playing bar', async () => {
    const calls: unknown[] = [];
    player.known = new Map([[track.id, { ...track, loved: false }]]);
    mockCommands((command, args) => {
      calls.push([command, args]);
      return [{ ...track, loved: true }];
    });
    await listening.setLoved([{ ...track, loved: false }], true);
    expect(calls).toEqual([['set_loved', { trackIds: [track.id], loved: true }]]);
    expect(player.known.get(track.id)?.loved).toBe(true);
  });

  it('clears a rating with null and reports a refusal', async () => {
    mockCommands((command, args) => {
      expect(command).toBe('set_rating');
      expect(args).toEqual({ trackIds: [7, 9], rating: null });
      throw { kind: 'invalid_input', message: 'A rating is 0 to 5 stars.' };
    });
    await listening.setRating([track, { ...track, id: 9 }] as Track[], null);
    expect(notices.items.map((n) => n.message)).toEqual(['A rating is 0 to 5 stars.']);
  });

  it('counts the changes waiting to sync: the locker status first, then the latest event', () => {
    expect(listening.pendingCount).toBe(0);
    locker.status = { ...commandPayloads.lockerStatus.result!, pending_changes: 2 };
    expect(listening.pendingCount).toBe(2);
    listening.handleEvent({ type: 'pending_changes', count: 5 });
    expect(listening.pendingCount).toBe(5);
    listening.handleEvent({ type: 'pending_changes', count: 0 });
    expect(listening.pendingCount).toBe(0);
    // Without a locker nothing waits.
    listening.handleEvent({ type: 'pending_changes', count: 4 });
    locker.status = null;
    expect(listening.pendingCount).toBe(0);
  });

  it('opens a saved rule playlist and leaves the editor', async () => {
    const saved = commandPayloads.saveSmartPlaylist.result;
    mockCommands((command) => {
      if (command === 'save_smart_playlist') return saved;
      if (command === 'smart_playlists') return [saved];
      if (command === 'smart_playlist_tracks') return [track];
      throw new Error(`unexpected ${command}`);
    });
    listening.startNew();
    expect(listening.editing?.id).toBeNull();
    await listening.save(null, saved.name, saved.rule);
    expect(listening.editing).toBeNull();
    expect(listening.open?.id).toBe(saved.id);
    expect(listening.tracks.map((t) => t.id)).toEqual([track.id]);
  });

  it('offers Love in the track menu, and taking the heart back when all chosen are loved', () => {
    const labels = (tracks: Track[]) => trackMenuItems(tracks, () => {}).map((item) => item.label);
    expect(labels([{ ...track, loved: false }])).toContain('Love');
    expect(labels([{ ...track, loved: true }])).toContain('Remove the heart');
  });
});
