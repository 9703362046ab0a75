// The locker as the window shows it: connection, quota, uploads in flight, sync, the
// offline cache, and whether the locker can be reached at all.
import { api } from '../api';
import type { LoftEvent } from '../events';
import type { CacheStatus, EncryptReport, GivenCredentials, GivenKeying, GivenSecret, LockerStatus, Track, UploadItem } from '../bindings';
import { connectivity } from './connectivity.svelte';
import { addTrackActions } from './menu.svelte';
import { notices } from './notices.svelte';

/** The uploads panel's overall line: the files of the current run of the queue. */
export interface UploadSummary {
  filesDone: number;
  filesTotal: number;
  bytesSent: number;
  bytesTotal: number;
  startedAt: number;
}

const ACTIVE: UploadItem['state'][] = ['queued', 'sending'];

/**
 * Adds up the queue since it last started from idle (`since` holds the ids finished before
 * that, which no longer count): files and bytes to send, not counting duplicates, failures
 * and cancellations, which send nothing.
 */
export function summarizeUploads(items: UploadItem[], before: ReadonlySet<number>, startedAt: number): UploadSummary | null {
  const run = items.filter((item) => !before.has(item.id) && !['duplicate', 'failed', 'cancelled'].includes(item.state));
  if (!items.some((item) => ACTIVE.includes(item.state))) return null;
  return {
    filesDone: run.filter((item) => item.state === 'done').length,
    filesTotal: run.length,
    bytesSent: run.reduce((sum, item) => sum + Math.min(item.bytes_sent, item.size), 0),
    bytesTotal: run.reduce((sum, item) => sum + item.size, 0),
    startedAt,
  };
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
  /** The upload queue, oldest first, as the core reports it. */
  uploads = $state<UploadItem[]>([]);
  #finishedBefore = new Set<number>();
  /**
   * When each file being sent was first seen with bytes on the wire, and how many: its own
   * speed counts from there, so the time it spent being hashed does not drag it down.
   */
  #sendingSince = new Map<number, { at: number; bytes: number }>();
  #runStartedAt = Date.now();
  upload = $derived(summarizeUploads(this.uploads, this.#finishedBefore, this.#runStartedAt));
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
    await Promise.all([this.loadCache(), this.loadUploads()]);
  }

  async loadCache(): Promise<void> {
    try {
      this.cache = await api.cacheStatus();
    } catch (error) {
      notices.report(error);
    }
  }

  /** The recovery key to show once, after this device made a locker's key; null once noted. */
  recoveryKey = $state<string | null>(null);
  /** A conversion to encrypted running from this window: blobs sealed of those in all. */
  encrypting = $state<{ sealed: number; total: number } | null>(null);
  /** What the last conversion run reported (devices it waits for, damaged tracks). */
  encryptReport = $state<EncryptReport | null>(null);
  unlocking = $state(false);

  /** Encrypted, and this device has no key yet: the pane asks for the passphrase. */
  locked = $derived(this.status?.encryption.encrypted === true && !this.status.encryption.unlocked);

  async connect(url: string, credentials: GivenCredentials, keying: GivenKeying = { passphrase: null, encrypt: false }): Promise<boolean> {
    this.connecting = true;
    try {
      this.status = await api.connectLocker(url, credentials, keying);
      this.reachable = true;
      if (keying.encrypt && this.status.encryption.unlocked) this.recoveryKey = await api.lockerRecoveryKey();
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    } finally {
      this.connecting = false;
    }
  }

  async unlock(secret: GivenSecret): Promise<boolean> {
    this.unlocking = true;
    try {
      this.status = await api.unlockLocker(secret);
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    } finally {
      this.unlocking = false;
    }
  }

  /** Starts (with a passphrase) or continues the conversion of this locker to encrypted. */
  async encrypt(passphrase: string | null, withoutDevices: string[] = []): Promise<void> {
    this.encrypting = { sealed: 0, total: 0 };
    try {
      const report = await api.encryptLocker(passphrase, withoutDevices);
      this.encryptReport = report;
      if (report.recovery_key) this.recoveryKey = report.recovery_key;
      this.status = await api.lockerStatus();
    } catch (error) {
      notices.report(error);
    } finally {
      this.encrypting = null;
    }
  }

  async changePassphrase(current: GivenSecret, newPassphrase: string): Promise<boolean> {
    try {
      await api.changeLockerPassphrase(current, newPassphrase);
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    }
  }

  async showRecoveryKey(): Promise<void> {
    try {
      this.recoveryKey = await api.lockerRecoveryKey();
    } catch (error) {
      notices.report(error);
    }
  }

  async forgetKey(): Promise<void> {
    try {
      await api.forgetLockerKey();
      this.status = await api.lockerStatus();
    } catch (error) {
      notices.report(error);
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

  /** Queues dropped or picked files; the core refuses a drop that would not fit the quota. */
  async uploadPaths(paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    if (!this.connected) {
      notices.report({ kind: 'locker', message: 'Connect a locker first: Locker → Connect.' });
      return;
    }
    try {
      await api.uploadPaths(paths);
    } catch (error) {
      notices.report(error);
    }
  }

  async pickAndUpload(): Promise<void> {
    try {
      await api.pickAndUpload();
    } catch (error) {
      notices.report(error);
    }
  }

  async loadUploads(): Promise<void> {
    try {
      this.setUploads(await api.uploads());
    } catch (error) {
      notices.report(error);
    }
  }

  /** One file's speed and time left while it is being sent; null until there is a speed. */
  itemRate(item: UploadItem, now = Date.now()): { bytesPerSecond: number; secondsLeft: number | null } | null {
    const since = this.#sendingSince.get(item.id);
    if (item.state !== 'sending' || since === undefined || item.bytes_sent <= since.bytes) return null;
    return uploadRate(
      { bytesSent: item.bytes_sent - since.bytes, bytesTotal: item.size - since.bytes, startedAt: since.at },
      now,
    );
  }

  cancelUpload = (id: number) => this.#command(() => api.cancelUpload(id));
  retryUpload = (id: number) => this.#command(() => api.retryUpload(id));
  clearFinishedUploads = () => this.#command(() => api.clearFinishedUploads());

  async #command(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (error) {
      notices.report(error);
    }
  }

  /** Takes the core's queue; a run that starts from idle starts the speed and totals afresh. */
  setUploads(items: UploadItem[]): void {
    const wasActive = this.uploads.some((item) => ACTIVE.includes(item.state));
    const active = items.some((item) => ACTIVE.includes(item.state));
    if (active && !wasActive) {
      this.#finishedBefore = new Set(items.filter((item) => !ACTIVE.includes(item.state)).map((item) => item.id));
      this.#runStartedAt = Date.now();
    }
    // Each file that lands takes room in the locker: keep the quota bars moving with them.
    const landed = items.some(
      (item) => item.state === 'done' && this.uploads.some((before) => before.id === item.id && before.state !== 'done'),
    );
    if (landed || (wasActive && !active)) void this.#refreshStatus();
    const now = Date.now();
    for (const item of items) {
      if (item.state === 'sending' && item.bytes_sent > 0 && !this.#sendingSince.has(item.id)) {
        this.#sendingSince.set(item.id, { at: now, bytes: item.bytes_sent });
      }
    }
    for (const id of this.#sendingSince.keys()) {
      if (!items.some((item) => item.id === id && item.state === 'sending')) this.#sendingSince.delete(id);
    }
    this.uploads = items;
    connectivity.uploadingPaths = new Set(items.filter((item) => item.state === 'sending').map((item) => item.path));
  }

  #statusRefresh: Promise<void> | null = null;
  #statusStale = false;

  /**
   * Asks the core for the locker's use again. A call made while one is under way asks once
   * more when it is done (what landed meanwhile may not be in the first answer).
   */
  #refreshStatus(): Promise<void> {
    if (this.#statusRefresh) {
      this.#statusStale = true;
      return this.#statusRefresh;
    }
    this.#statusRefresh = (async () => {
      do {
        this.#statusStale = false;
        try {
          this.status = await api.lockerStatus();
        } catch {
          // The next landing or the end of the run asks again; an outage shows elsewhere.
        }
      } while (this.#statusStale);
      this.#statusRefresh = null;
    })();
    return this.#statusRefresh;
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
      case 'uploads_changed':
        this.setUploads(event.items);
        break;
      case 'sync_finished':
        void this.#refreshStatus();
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
      case 'locker_encryption_progress':
        this.encrypting = { sealed: event.blobs_sealed, total: event.blobs_total };
        break;
      case 'locker_encryption':
        void this.#refreshStatus();
        break;
      default:
        break;
    }
  }
}

export const locker = new LockerState();

/** Bytes per second and seconds left, from what an upload has sent so far. */
export function uploadRate(upload: Pick<UploadSummary, 'bytesSent' | 'bytesTotal' | 'startedAt'>, now = Date.now()): { bytesPerSecond: number; secondsLeft: number | null } {
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
