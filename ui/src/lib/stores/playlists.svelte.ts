// The user's playlists: the list in the sidebar, the one open in the main view, and the
// edits. Another device's edits arrive as `playlists_changed` events after a locker sync.
import { api } from '../api';
import { countOf } from '../format';
import type { LoftEvent } from '../events';
import type { M3u8Export, M3u8ImportReport, Playlist, PlaylistEntry, Track } from '../bindings';
import { addTrackActions } from './menu.svelte';
import { notices } from './notices.svelte';

class PlaylistsState {
  list = $state<Playlist[]>([]);
  /** The playlist open in the main view. */
  openId = $state<string | null>(null);
  entries = $state<PlaylistEntry[]>([]);
  message = $state<string | null>(null);
  /** What the message leaves out: the lines an import could not match, the songs an export
   * wrote only as a comment. */
  details = $state<string[]>([]);

  open = $derived(this.list.find((p) => p.id === this.openId) ?? null);

  async load(): Promise<void> {
    try {
      this.list = await api.playlists();
      if (this.openId && !this.list.some((p) => p.id === this.openId)) this.openId = null;
      if (this.openId) this.entries = await api.playlistTracks(this.openId);
    } catch (error) {
      notices.report(error);
    }
  }

  async show(id: string | null): Promise<void> {
    this.openId = id;
    this.entries = [];
    this.message = null;
    this.details = [];
    if (id === null) return;
    try {
      this.entries = await api.playlistTracks(id);
    } catch (error) {
      notices.report(error);
    }
  }

  async create(name = 'New playlist'): Promise<Playlist | null> {
    return this.#edit(async () => {
      const playlist = await api.createPlaylist(uniqueName(name, this.list));
      await this.load();
      return playlist;
    });
  }

  rename = (id: string, name: string) => this.#edit(() => api.renamePlaylist(id, name.trim()));
  remove = (id: string, entryIds: string[]) => this.#edit(() => api.playlistRemove(id, entryIds));
  move = (id: string, entryId: string, to: number) => this.#edit(() => api.playlistMove(id, entryId, to));

  async delete(id: string): Promise<void> {
    await this.#edit(() => api.deletePlaylist(id));
    if (this.openId === id) await this.show(null);
  }

  async add(id: string, tracks: Track[]): Promise<void> {
    const name = this.list.find((p) => p.id === id)?.name ?? 'the playlist';
    const added = await this.#edit(() => api.playlistAdd(id, tracks.map((t) => t.id), null));
    if (!added) return;
    this.message = `Added ${added.length === 1 ? `“${tracks[0]?.title}”` : `${added.length} songs`} to ${name}.`;
    this.details = [];
  }

  async addToNew(tracks: Track[]): Promise<void> {
    const playlist = await this.create();
    if (playlist) await this.add(playlist.id, tracks);
  }

  async importFile(): Promise<void> {
    const report = await this.#edit(() => api.importM3u8());
    if (!report) return;
    await this.load();
    await this.show(report.playlist.id);
    this.message =
      `Imported ${countOf(report.added, 'song')} into “${report.playlist.name}”.` +
      (report.unmatched.length ? ` ${countOf(report.unmatched.length, 'line')} matched nothing in the library:` : '');
    this.details = unmatchedLines(report);
  }

  async exportFile(playlist: Playlist): Promise<void> {
    const report = await this.#edit(() => api.exportM3u8(playlist.id, playlist.name));
    if (!report) return;
    this.message =
      `Saved ${countOf(report.written, 'song')} to ${report.path}.` +
      (report.not_written.length ? ` ${countOf(report.not_written.length, 'song')} ${report.not_written.length === 1 ? 'was' : 'were'} written only as a comment:` : '');
    this.details = notWrittenLines(report);
  }

  handleEvent(event: LoftEvent): void {
    if (event.type === 'playlists_changed' || event.type === 'library_changed') void this.load();
  }

  async #edit<T>(action: () => Promise<T>): Promise<T | null> {
    try {
      return await action();
    } catch (error) {
      notices.report(error);
      return null;
    }
  }
}

/** The lines of an imported file that named no library track, each with its number and why. */
export function unmatchedLines(report: M3u8ImportReport): string[] {
  return report.unmatched.map((u) => `Line ${u.line}: ${u.entry} (${u.reason})`);
}

/** The songs an export could not write as a path, by their place in the playlist, with why. */
export function notWrittenLines(report: M3u8Export): string[] {
  return report.not_written.map((n) => `${n.position + 1}. ${n.name} (${n.reason})`);
}

/** "New playlist", then "New playlist 2", … so a fresh one never collides with a name in use. */
export function uniqueName(base: string, existing: { name: string }[]): string {
  const taken = new Set(existing.map((p) => p.name));
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base} ${n}`)) return `${base} ${n}`;
}

export const playlists = new PlaylistsState();

addTrackActions((tracks) => [
  ...playlists.list.slice(0, 8).map((p) => ({
    label: `Add to “${p.name}”`,
    action: () => void playlists.add(p.id, tracks),
    testId: 'menu-add-to-playlist',
  })),
  { label: 'Add to a new playlist', action: () => void playlists.addToNew(tracks), testId: 'menu-add-to-new-playlist' },
]);
