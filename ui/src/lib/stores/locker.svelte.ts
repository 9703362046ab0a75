// The locker as the window shows it: connection, quota, uploads in flight, sync, the
// offline cache, and whether the locker can be reached at all.
import { api } from '../api';
import type { LoftEvent } from '../events';
import type { CacheStatus, GivenCredentials, LockerStatus, Track, UploadReport } from '../types';
import { connectivity } from './connectivity.svelte';
import { addTrackActions } from './menu.svelte';
import { notices } from './notices.svelte';

export interface UploadState {
  filesDone: number;
  filesTotal: number;
  bytesSent: number;
  bytesTotal: number;
  current: string | null;
  startedAt: number;
}

class LockerState {
  status = $state<LockerStatus | null>(null);
  loaded = $state(false);
  /** Whether the locker answered last time; shared with the lists and the player. */
  get reachable(): boolean {
    return connectivity.lockerReachable;
  }
  set reachable(value: boolean) {
    connectivity.lockerReachable = value;
  }
  unreachableReason = $state<string | null>(null);
  upload = $state<UploadState | null>(null);
  lastUpload = $state<UploadReport | null>(null);
  syncing = $state(false);
  cache = $state<CacheStatus | null>(null);
  connecting = $state(false);

  connected = $derived(this.status !== null);

  async load(): Promise<void> {
    try {
      this.status = await api.lockerStatus();
      this.reachable = true;
    } catch (error) {
      // A connected locker that doesn't answer is a state to show, not an error to pop up.
      this.reachable = false;
      this.unreachableReason = (error as { message?: string }).message ?? null;
    } finally {
      this.loaded = true;
    }
    await this.loadCache();
  }

  async loadCache(): Promise<void> {
    try {
      this.cache = await api.cacheStatus();
    } catch (error) {
      notices.report(error);
    }
  }

  async connect(url: string, credentials: GivenCredentials): Promise<boolean> {
    this.connecting = true;
    try {
      this.status = await api.connectLocker(url, credentials);
      this.reachable = true;
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    } finally {
      this.connecting = false;
    }
  }

  async disconnect(): Promise<void> {
    try {
      await api.disconnectLocker();
      this.status = null;
    } catch (error) {
      notices.report(error);
    }
  }

  async setQuota(bytes: number): Promise<void> {
    try {
      this.status = await api.setLockerQuota(bytes);
    } catch (error) {
      notices.report(error);
    }
  }

  /** Uploads dropped or picked files; the locker refuses what would not fit before sending. */
  async uploadPaths(paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    if (!this.connected) {
      notices.report({ kind: 'locker', message: 'Connect a locker first: Locker → Connect.' });
      return;
    }
    this.upload = { filesDone: 0, filesTotal: 0, bytesSent: 0, bytesTotal: 0, current: null, startedAt: Date.now() };
    try {
      this.#finish(await api.uploadPaths(paths));
    } catch (error) {
      notices.report(error);
    } finally {
      this.upload = null;
      connectivity.uploadingPaths = new Set();
    }
  }

  async pickAndUpload(): Promise<void> {
    try {
      const report = await api.pickAndUpload();
      if (report) this.#finish(report);
    } catch (error) {
      notices.report(error);
    }
  }

  async syncNow(): Promise<void> {
    this.syncing = true;
    try {
      await api.syncLocker();
      this.status = await api.lockerStatus();
      this.reachable = true;
    } catch (error) {
      notices.report(error);
    } finally {
      this.syncing = false;
    }
  }

  async pin(tracks: Track[]): Promise<void> {
    try {
      await api.pinTracks(tracks.map((t) => t.id));
    } catch (error) {
      notices.report(error);
    }
  }

  async unpin(tracks: Track[]): Promise<void> {
    try {
      await api.unpinTracks(tracks.map((t) => t.id));
      await this.loadCache();
    } catch (error) {
      notices.report(error);
    }
  }

  async removeFromLocker(tracks: Track[]): Promise<void> {
    try {
      for (const track of tracks) await api.removeFromLocker(track.id);
      this.status = await api.lockerStatus();
    } catch (error) {
      notices.report(error);
    }
  }

  async setCacheLimit(bytes: number): Promise<void> {
    try {
      await api.setCacheLimit(bytes);
      await this.loadCache();
    } catch (error) {
      notices.report(error);
    }
  }

  handleEvent(event: LoftEvent): void {
    switch (event.type) {
      case 'upload_progress':
        connectivity.uploadingPaths = new Set(event.current ? [event.current] : []);
        this.upload = {
          filesDone: event.files_done,
          filesTotal: event.files_total,
          bytesSent: event.bytes_sent,
          bytesTotal: event.bytes_total,
          current: event.current,
          startedAt: this.upload?.startedAt ?? Date.now(),
        };
        break;
      case 'sync_finished':
        void api.lockerStatus().then(
          (status) => (this.status = status),
          () => {},
        );
        break;
      case 'locker_unreachable':
        this.reachable = false;
        this.unreachableReason = event.message;
        break;
      case 'locker_reachable':
        this.reachable = true;
        this.unreachableReason = null;
        break;
      case 'cache_changed':
        void this.loadCache();
        break;
      default:
        break;
    }
  }

  #finish(report: UploadReport): void {
    this.lastUpload = report;
    void api.lockerStatus().then(
      (status) => (this.status = status),
      () => {},
    );
  }
}

export const locker = new LockerState();

/** Bytes per second and seconds left, from what an upload has sent so far. */
export function uploadRate(upload: UploadState, now = Date.now()): { bytesPerSecond: number; secondsLeft: number | null } {
  const seconds = Math.max(0.001, (now - upload.startedAt) / 1000);
  const bytesPerSecond = upload.bytesSent / seconds;
  const left = upload.bytesTotal - upload.bytesSent;
  return { bytesPerSecond, secondsLeft: bytesPerSecond > 0 && left >= 0 ? left / bytesPerSecond : null };
}

addTrackActions((tracks) => {
  if (!locker.connected) return [];
  const inLocker = tracks.filter((t) => t.source !== 'local');
  const localOnly = tracks.filter((t) => t.source === 'local' && t.path);
  return [
    {
      label: 'Upload to locker',
      disabled: localOnly.length === 0,
      testId: 'menu-upload',
      action: () => void locker.uploadPaths(localOnly.flatMap((t) => (t.path ? [t.path] : []))),
    },
    {
      label: 'Download for offline',
      disabled: inLocker.length === 0,
      testId: 'pin',
      action: () => void locker.pin(inLocker),
    },
    { label: 'Remove download', disabled: inLocker.length === 0, testId: 'unpin', action: () => void locker.unpin(inLocker) },
    {
      label: 'Remove from locker…',
      disabled: inLocker.length === 0,
      testId: 'menu-remove-from-locker',
      action: () => {
        const what = inLocker.length === 1 ? `“${inLocker[0]?.title}”` : `${inLocker.length} songs`;
        if (window.confirm(`Remove ${what} from the locker on every device? Files on this computer stay.`)) {
          void locker.removeFromLocker(inLocker);
        }
      },
    },
  ];
});
