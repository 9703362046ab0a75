// What is playing, where in it, and what comes next — as the engine reports it through
// events. The UI never keeps its own clock: position comes from the engine.
import { api } from '../api';
import type { LoftEvent, PlaybackStatus, RepeatMode, Track } from '../bindings';
import { playableNow } from '../availability';
import { connectivity } from './connectivity.svelte';
import { notices } from './notices.svelte';

const REPEAT_MODES: readonly string[] = ['off', 'one', 'all'] satisfies RepeatMode[];

/** The engine names its repeat mode as a string; anything it does not offer reads as off. */
function repeatMode(name: string): RepeatMode {
  return REPEAT_MODES.includes(name) ? (name as RepeatMode) : 'off';
}

/** The engine sends a float as `null` when it is not finite. */
function millis(secs: number | null): number {
  return secs === null ? 0 : Math.round(secs * 1000);
}

/** A file's name without its folder and extension. */
export function fileTitle(path: string): string {
  const name = path.split(/[\\/]/).pop() ?? path;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

class PlayerState {
  /** "playing", "paused", "buffering" or "stopped", as the engine names them. */
  state = $state('stopped');
  index = $state<number | null>(null);
  trackId = $state<number | null>(null);
  positionMs = $state(0);
  durationMs = $state(0);
  shuffle = $state(false);
  repeat = $state<RepeatMode>('off');
  /** Track ids in queue order. */
  queue = $state<number[]>([]);
  /** What to call a file that plays without being in the library (opened from the file
   * manager or the command line): its name without folder and extension. */
  fileTitle = $state<string | null>(null);
  /** Its artist, once its tags have been read; null until then or without one. */
  fileArtist = $state<string | null>(null);
  #fileSeq = 0;
  /** Every track the player has been handed, by id, to name what plays. */
  known = $state(new Map<number, Track>());

  current = $derived(this.trackId === null ? null : (this.known.get(this.trackId) ?? null));
  queueTracks = $derived(this.queue.map((id) => this.known.get(id) ?? null));

  async load(): Promise<void> {
    try {
      await this.apply(await api.playerStatus());
    } catch (error) {
      notices.report(error);
    }
  }

  remember(tracks: Track[]): void {
    if (tracks.every((t) => this.known.has(t.id))) return;
    const known = new Map(this.known);
    for (const track of tracks) known.set(track.id, track);
    this.known = known;
  }

  async playTracks(tracks: Track[], start: number): Promise<void> {
    const chosen = tracks[start];
    if (chosen && !playableNow(chosen, connectivity.lockerReachable)) {
      // Said plainly instead of starting a stream that can only fail.
      notices.report({
        kind: 'offline',
        message: `“${chosen.title}” is only in the locker, which can't be reached right now. Download it for offline to play it without a network.`,
      });
      return;
    }
    this.remember(tracks);
    await this.run(() => api.playTracks(tracks.map((t) => t.id), start));
  }

  async playNext(tracks: Track[]): Promise<void> {
    this.remember(tracks);
    await this.run(() => api.queuePlayNext(tracks.map((t) => t.id)));
  }

  async append(tracks: Track[]): Promise<void> {
    this.remember(tracks);
    await this.run(() => api.queueAppend(tracks.map((t) => t.id)));
  }

  togglePlay = () => this.run(() => api.togglePlay());
  next = () => this.run(() => api.nextTrack());
  previous = () => this.run(() => api.previousTrack());
  removeAt = (index: number) => this.run(() => api.queueRemove(index));
  move = (from: number, to: number) => this.run(() => api.queueMove(from, to));
  clear = () => this.run(() => api.queueClear());
  toggleShuffle = () => this.run(() => api.setShuffle(!this.shuffle));
  cycleRepeat = () => {
    const next: Record<RepeatMode, RepeatMode> = { off: 'all', all: 'one', one: 'off' };
    return this.run(() => api.setRepeat(next[this.repeat]));
  };

  async seek(positionMs: number): Promise<void> {
    this.positionMs = positionMs;
    await this.run(() => api.seek(positionMs / 1000));
  }

  handleEvent(event: LoftEvent): void {
    switch (event.type) {
      case 'playback_position':
        this.index = event.index;
        this.trackId = event.track_id;
        this.positionMs = millis(event.position_secs);
        if (event.duration_secs !== null) this.durationMs = millis(event.duration_secs);
        break;
      case 'track_changed':
        this.index = event.index;
        this.trackId = event.track_id;
        this.positionMs = 0;
        this.durationMs = millis(event.duration_secs);
        this.showFile(event.index, event.track_id > 0 ? null : event.name);
        void this.fetchUnknown([event.track_id]);
        break;
      case 'playback_state':
        this.state = event.state;
        break;
      case 'playback_error':
        notices.report({ kind: event.kind, message: `${event.name}: ${event.message}` });
        break;
      case 'queue_changed':
        this.queue = event.track_ids;
        this.shuffle = event.shuffle;
        this.repeat = repeatMode(event.repeat);
        void this.fetchUnknown(event.track_ids);
        break;
      case 'queue_ended':
        this.state = 'stopped';
        this.positionMs = 0;
        break;
      default:
        break;
    }
  }

  /**
   * Names a file playing outside the library: by its file name at once, then by its tags once
   * they are read (unless the queue has moved on by then). `path` is null for a library track.
   */
  private showFile(index: number | null, path: string | null): void {
    const asked = ++this.#fileSeq;
    this.fileTitle = path === null ? null : fileTitle(path);
    this.fileArtist = null;
    if (path === null || index === null) return;
    void api
      .playingFileTags(index)
      .then((tags) => {
        // Only the answer to the latest question: a new queue starts at index 0 again.
        if (!tags || asked !== this.#fileSeq) return;
        if (tags.title) this.fileTitle = tags.title;
        this.fileArtist = tags.artist || null;
      })
      .catch(() => {
        // The file name stays: tags are a nicety, and the file plays either way.
      });
  }

  /** Sends a command; what it changes comes back as events (see handleEvent). */
  private async run(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (error) {
      notices.report(error);
    }
  }

  private async apply(status: PlaybackStatus): Promise<void> {
    this.state = status.state;
    this.index = status.index;
    this.trackId = status.track_id;
    const bareFile = status.track_id !== null && status.track_id <= 0 && status.name !== null;
    this.showFile(status.index, bareFile ? status.name : null);
    this.positionMs = millis(status.position_secs);
    this.durationMs = millis(status.duration_secs);
    this.shuffle = status.shuffle;
    this.repeat = repeatMode(status.repeat);
    this.queue = status.queue;
    await this.fetchUnknown(status.queue);
  }

  /** Names tracks the queue holds that this window was never handed (queued elsewhere). */
  private async fetchUnknown(ids: number[]): Promise<void> {
    const missing = ids.filter((id) => id >= 0 && !this.known.has(id));
    if (missing.length === 0) return;
    try {
      this.remember(await api.tracksById([...new Set(missing)]));
    } catch (error) {
      notices.report(error);
    }
  }
}

export const player = new PlayerState();
