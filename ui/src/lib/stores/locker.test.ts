import { afterEach, describe, expect, it } from 'vitest';
import { invoke } from '@tauri-apps/api/core';
import { setInvoke } from '../ipc';
import { locker, uploadRate } from './locker.svelte';
import { trackMenuItems } from './menu.svelte';
import { notices } from './notices.svelte';
import type { LockerStatus, Track } from '../types';

const status: LockerStatus = {
  url: 'file:///tmp/locker', locker_id: 'l', device: 'd', usage_bytes: 3.2e9, quota_bytes: 5e9,
  tracks: 10, playlists: 1, devices: [], last_sync_ms: null, backend_quota: null,
};

afterEach(() => {
  setInvoke(invoke);
  notices.items = [];
  locker.status = null;
});

describe('locker store', () => {
  it('works out speed and time left from what was sent', () => {
    const rate = uploadRate({ filesDone: 1, filesTotal: 4, bytesSent: 10e6, bytesTotal: 40e6, current: null, startedAt: 0 }, 2000);
    expect(rate.bytesPerSecond).toBe(5e6);
    expect(rate.secondsLeft).toBe(6);
  });

  it('refuses a drop before a locker is connected, saying what to do', async () => {
    await locker.uploadPaths(['/music/a.flac']);
    expect(notices.items[0]?.message).toMatch(/Connect a locker first/);
  });

  it('shows the refusal of an upload over the quota', async () => {
    locker.status = status;
    setInvoke(async () => {
      throw { kind: 'quota', message: 'the upload needs 2.1 GB but only 1.8 GB is left of 5 GB' };
    });
    await locker.uploadPaths(['/music/big.flac']);
    expect(notices.items.map((n) => n.message)).toEqual(['the upload needs 2.1 GB but only 1.8 GB is left of 5 GB']);
    expect(locker.upload).toBeNull();
  });

  it('offers locker actions that fit each track', () => {
    locker.status = status;
    const labels = (tracks: Partial<Track>[]) =>
      trackMenuItems(tracks as Track[], () => {})
        .filter((i) => !i.disabled)
        .map((i) => i.label);
    expect(labels([{ id: 1, source: 'local', path: '/m/a.flac' }])).toContain('Upload to locker');
    expect(labels([{ id: 1, source: 'local', path: '/m/a.flac' }])).not.toContain('Download for offline');
    expect(labels([{ id: 2, source: 'locker', path: null }])).toContain('Download for offline');
    expect(labels([{ id: 2, source: 'locker', path: null }])).not.toContain('Upload to locker');
  });

  it('marks the locker offline and back from events', () => {
    locker.handleEvent({ type: 'locker_unreachable', message: 'connection refused' });
    expect(locker.reachable).toBe(false);
    locker.handleEvent({ type: 'locker_reachable' });
    expect(locker.reachable).toBe(true);
  });
});
