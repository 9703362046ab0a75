import { afterEach, describe, expect, it, vi } from 'vitest';
import { clearMocks, mockCommands } from '../testing';
import { locker, summarizeUploads, uploadRate } from './locker.svelte';
import { trackMenuItems } from './menu.svelte';
import { notices } from './notices.svelte';
import { connectivity } from './connectivity.svelte';
import type { LockerStatus, Track, UploadItem } from '../bindings';

const status: LockerStatus = {
  url: 'file:///tmp/locker', locker_id: 'l', device: 'd', usage_bytes: 3.2e9, quota_bytes: 5e9,
  tracks: 10, playlists: 1, devices: [], last_sync_ms: null, backend_quota: null,
  pending_changes: 0, reached: true, encryption: { encrypted: false, unlocked: true, converting: false },
};

afterEach(() => {
  clearMocks();
  notices.items = [];
  locker.status = null;
});

describe('locker store', () => {
  it('asks for the passphrase only where an encrypted locker has no key', () => {
    locker.status = status;
    expect(locker.locked).toBe(false);
    locker.status = { ...status, encryption: { encrypted: true, unlocked: false, converting: false } };
    expect(locker.locked).toBe(true);
    locker.status = { ...status, encryption: { encrypted: true, unlocked: true, converting: true } };
    expect(locker.locked).toBe(false);
  });

  it('creates an encrypted locker and keeps the recovery key to show once', async () => {
    const calls: [string, Record<string, unknown>][] = [];
    const sealed = { ...status, encryption: { encrypted: true, unlocked: true, converting: false } };
    mockCommands(async <T>(command: string, args: Record<string, unknown>) => {
      calls.push([command, args]);
      return (command === 'locker_recovery_key' ? 'H53K-EEZI-XDVF-J5X5-POUI-A42V-HVOQ-OTRF' : sealed) as T;
    });
    const keying = { passphrase: 'violet harbour lantern', encrypt: true };
    expect(await locker.connect('file:///tmp/locker', { kind: 'none' }, keying)).toBe(true);
    expect(calls[0]).toEqual(['connect_locker', { url: 'file:///tmp/locker', credentials: { kind: 'none' }, keying }]);
    expect(locker.recoveryKey).toBe('H53K-EEZI-XDVF-J5X5-POUI-A42V-HVOQ-OTRF');
    locker.recoveryKey = null;
  });

  it('follows a conversion from its progress events', () => {
    locker.handleEvent({ type: 'locker_encryption_progress', blobs_sealed: 3, blobs_total: 12 });
    expect(locker.encrypting).toEqual({ sealed: 3, total: 12 });
    locker.encrypting = null;
  });

  it('works out speed and time left from what was sent', () => {
    const rate = uploadRate({ bytesSent: 10e6, bytesTotal: 40e6, startedAt: 0 }, 2000);
    expect(rate.bytesPerSecond).toBe(5e6);
    expect(rate.secondsLeft).toBe(6);
  });

  it('sums up the run of the queue: files and bytes to send, not duplicates or failures', () => {
    const item = (id: number, state: UploadItem['state'], size: number, sent: number): UploadItem => ({
      id, path: `/m/${id}.flac`, size, bytes_sent: sent, state, error_kind: null, message: null,
    });
    const items = [
      item(1, 'done', 100, 100), // finished in an earlier run
      item(2, 'done', 10, 10),
      item(3, 'sending', 30, 12),
      item(4, 'queued', 60, 0),
      item(5, 'duplicate', 40, 0),
      item(6, 'failed', 50, 0),
    ];
    expect(summarizeUploads(items, new Set([1]), 7)).toEqual({
      filesDone: 1, filesTotal: 3, bytesSent: 22, bytesTotal: 100, startedAt: 7,
    });
    expect(summarizeUploads([item(1, 'done', 100, 100)], new Set(), 0)).toBeNull();
  });

  it('follows the queue from events and marks the files being sent', () => {
    locker.handleEvent({
      type: 'uploads_changed',
      items: [{ id: 9, path: '/m/a.flac', size: 10, bytes_sent: 4, state: 'sending', error_kind: null, message: null }],
    });
    expect(locker.upload?.bytesSent).toBe(4);
    expect(connectivity.uploadingPaths.has('/m/a.flac')).toBe(true);
    mockCommands(async <T>() => status as T);
    locker.handleEvent({
      type: 'uploads_changed',
      items: [{ id: 9, path: '/m/a.flac', size: 10, bytes_sent: 10, state: 'done', error_kind: null, message: null }],
    });
    expect(locker.upload).toBeNull();
    expect(connectivity.uploadingPaths.size).toBe(0);
  });

  it('asks for the locker use again as each file lands, while the rest still upload', async () => {
    const item = (id: number, state: UploadItem['state']): UploadItem => ({
      id, path: `/m/${id}.flac`, size: 1e6, bytes_sent: state === 'done' ? 1e6 : 0, state, error_kind: null, message: null,
    });
    let asked = 0;
    mockCommands(async <T>(command: string) => {
      if (command === 'locker_status') asked += 1;
      return { ...status, usage_bytes: 1e6 * asked } as T;
    });
    locker.setUploads([item(31, 'sending'), item(32, 'queued')]);
    locker.setUploads([item(31, 'sending'), item(32, 'queued')]);
    expect(asked).toBe(0);
    locker.setUploads([item(31, 'done'), item(32, 'sending')]);
    await vi.waitFor(() => expect(locker.status?.usage_bytes).toBe(1e6));
    expect(locker.upload).not.toBeNull();
    locker.setUploads([item(31, 'done'), item(32, 'done')]);
    await vi.waitFor(() => expect(locker.status?.usage_bytes).toBe(2e6));

    // Files landing while an answer is on its way are asked about again once it comes.
    let answer: (() => void) | null = null;
    mockCommands(<T>(command: string) => {
      if (command === 'locker_status') asked += 1;
      const usage = 1e6 * asked;
      return new Promise<T>((resolve) => {
        answer = () => resolve({ ...status, usage_bytes: usage } as T);
      });
    });
    locker.setUploads([item(31, 'done'), item(32, 'done'), item(33, 'sending'), item(34, 'sending')]);
    locker.setUploads([item(31, 'done'), item(32, 'done'), item(33, 'done'), item(34, 'sending')]);
    expect(asked).toBe(3);
    locker.setUploads([item(31, 'done'), item(32, 'done'), item(33, 'done'), item(34, 'done')]);
    expect(asked).toBe(3);
    answer!();
    await vi.waitFor(() => expect(asked).toBe(4));
    answer!();
    await vi.waitFor(() => expect(locker.status?.usage_bytes).toBe(4e6));
  });

  it('gives each file being sent its own speed and time left, from its first bytes on', () => {
    const sending = (sent: number): UploadItem => ({
      id: 21, path: '/m/b.flac', size: 30e6, bytes_sent: sent, state: 'sending', error_kind: null, message: null,
    });
    const queued: UploadItem = { ...sending(0), id: 22, state: 'queued' };
    // Being hashed: sending, nothing on the wire yet, no speed to show.
    locker.setUploads([sending(0), queued]);
    expect(locker.itemRate(sending(0))).toBeNull();
    const firstBytesAt = Date.now();
    locker.setUploads([sending(2e6), queued]);
    expect(locker.itemRate(sending(2e6))).toBeNull();
    expect(locker.itemRate(queued)).toBeNull();
    locker.setUploads([sending(12e6), queued]);
    const rate = locker.itemRate(sending(12e6), firstBytesAt + 4000);
    expect(rate).not.toBeNull();
    // 10 MB more in (just under) 4 s since the first bytes: 2.5 MB/s, 18 MB left, about 7.2 s.
    expect(rate!.bytesPerSecond).toBeGreaterThanOrEqual(2.5e6);
    expect(rate!.bytesPerSecond).toBeLessThan(2.5e6 * 1.02);
    expect(rate!.secondsLeft).toBeLessThanOrEqual(7.2);
    expect(rate!.secondsLeft).toBeGreaterThan(7);
    locker.setUploads([{ ...sending(30e6), state: 'done' }]);
    expect(locker.itemRate({ ...sending(30e6), state: 'done' })).toBeNull();
  });

  it('refuses a drop before a locker is connected, saying what to do', async () => {
    await locker.uploadPaths(['/music/a.flac']);
    expect(notices.items[0]?.message).toMatch(/Connect a locker first/);
  });

  it('shows the refusal of an upload over the quota', async () => {
    locker.status = status;
    mockCommands(async () => {
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
