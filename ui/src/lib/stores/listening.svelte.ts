// Hearts, ratings, rule playlists ("smart playlists") and the edits waiting to sync. Every edit
// is applied by the core at once (offline too); the lists reload on `library_changed`.
import { api } from '../api';
import type { LoftEvent } from '../events';
import type { SmartPlaylistInfo, SmartRule, Track } from '../bindings';
import { addTrackActions } from './menu.svelte';
import { notices } from './notices.svelte';
import { player } from './player.svelte';
import { locker } from './locker.svelte';
import { draftFromRule, emptyDraft, type RuleDraft } from '../rules';

class ListeningState {
  smartList = $state<SmartPlaylistInfo[]>([]);
  /** The rule playlist open in the main view. */
  openId = $state<string | null>(null);
  tracks = $state<Track[]>([]);
  /** The latest count the core reported; null until it reports one (the locker status has it then). */
  pending = $state<number | null>(null);
  /** This device's edits the connected locker has not got yet (none without a locker). */
  pendingCount = $derived(locker.status ? (this.pending ?? locker.status.pending_changes) : 0);

  /** The rule playlist being edited (`id` null: a new one), with where the editor starts. */
  editing = $state<{ id: string | null; draft: RuleDraft } | null>(null);

  open = $derived(this.smartList.find((p) => p.id === this.openId) ?? null);
  #tracksSeq = 0;

  async load(): Promise<void> {
    try {
      this.smartList = await api.smartPlaylists();
      if (this.openId && !this.smartList.some((p) => p.id === this.openId)) this.openId = null;
      await this.#loadTracks();
    } catch (error) {
      notices.report(error);
    }
  }

  async show(id: string | null): Promise<void> {
    this.openId = id;
    this.editing = null;
    this.tracks = [];
    await this.#loadTracks();
  }

  async #loadTracks(): Promise<void> {
    const id = this.openId;
    const seq = ++this.#tracksSeq;
    if (id === null) return;
    try {
      const tracks = await api.smartPlaylistTracks(id);
      // A later click or reload wins over an answer to an earlier one.
      if (seq === this.#tracksSeq) this.tracks = tracks;
    } catch (error) {
      if (seq === this.#tracksSeq) notices.report(error);
    }
  }

  async setLoved(tracks: Track[], loved: boolean): Promise<void> {
    await this.#change(() => api.setLoved(tracks.map((t) => t.id), loved));
  }

  async setRating(tracks: Track[], rating: number | null): Promise<void> {
    await this.#change(() => api.setRating(tracks.map((t) => t.id), rating));
  }

  startNew(): void {
    this.openId = null;
    this.tracks = [];
    this.editing = { id: null, draft: emptyDraft() };
  }

  startEdit(playlist: SmartPlaylistInfo): void {
    if (playlist.builtin) return;
    this.editing = { id: playlist.id, draft: draftFromRule(playlist.name, playlist.rule) };
  }

  cancelEdit(): void {
    this.editing = null;
  }

  /** Saves a rule playlist (a new one when `id` is null) and opens it. */
  async save(id: string | null, name: string, rule: SmartRule): Promise<SmartPlaylistInfo | null> {
    try {
      const saved = await api.saveSmartPlaylist(id, name, rule);
      this.editing = null;
      this.smartList = await api.smartPlaylists();
      await this.show(saved.id);
      return saved;
    } catch (error) {
      notices.report(error);
      return null;
    }
  }

  async delete(id: string): Promise<void> {
    try {
      await api.deleteSmartPlaylist(id);
      if (this.openId === id) await this.show(null);
      this.smartList = await api.smartPlaylists();
    } catch (error) {
      notices.report(error);
    }
  }

  /** The tracks as the core returns them after an edit replace the player's copies, so the
   * now-playing bar shows the new heart at once. */
  async #change(edit: () => Promise<Track[]>): Promise<void> {
    try {
      const changed = await edit();
      const known = new Map(player.known);
      let replaced = false;
      for (const track of changed) {
        if (known.has(track.id)) {
          known.set(track.id, track);
          replaced = true;
        }
      }
      if (replaced) player.known = known;
    } catch (error) {
      notices.report(error);
    }
  }

  handleEvent(event: LoftEvent): void {
    switch (event.type) {
      case 'pending_changes':
        this.pending = event.count;
        break;
      case 'playlists_changed':
        void this.load();
        break;
      case 'library_changed':
      case 'sync_finished':
        void this.#loadTracks();
        break;
      default:
        break;
    }
  }
}

export const listening = new ListeningState();

addTrackActions((tracks) => {
  const allLoved = tracks.every((t) => t.loved);
  return [
    {
      label: allLoved ? 'Remove the heart' : 'Love',
      action: () => void listening.setLoved(tracks, !allLoved),
      testId: 'menu-love',
    },
  ];
});
