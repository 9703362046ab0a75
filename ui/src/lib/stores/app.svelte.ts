// Which view is showing and the settings the UI reflects.
import { api } from '../api';
import type { AppInfo, ReplayGainMode, Settings } from '../bindings';
import type { Album, SearchResults } from '../bindings';
import { notices } from './notices.svelte';

export type View = 'songs' | 'albums' | 'artists' | 'playlists' | 'smart' | 'locker' | 'offline' | 'settings';

/**
 * Songs fetched per keystroke: a screenful and more, without shipping and painting hundreds of
 * rows on every key.
 */
const SEARCH_AS_YOU_TYPE = 60;

class AppState {
  view = $state<View>('songs');
  /** An album page open over the Albums or Artists view. */
  album = $state<Album | null>(null);
  /** An artist page open over the Artists view. */
  artist = $state<string | null>(null);
  query = $state('');
  results = $state<SearchResults | null>(null);
  #searchSeq = 0;
  info = $state<AppInfo | null>(null);
  settings = $state<Settings | null>(null);

  async load(): Promise<void> {
    try {
      const [info, settings] = await Promise.all([api.appInfo(), api.getSettings()]);
      this.info = info;
      this.settings = settings;
    } catch (error) {
      notices.report(error);
    }
  }

  navigate(view: View): void {
    this.view = view;
    this.album = null;
    this.artist = null;
    this.query = '';
    this.results = null;
  }

  /** Searches as the user types; an answer to an older keystroke never replaces a newer one. */
  async search(query: string): Promise<void> {
    this.query = query;
    const seq = ++this.#searchSeq;
    if (!query.trim()) {
      this.results = null;
      return;
    }
    try {
      const results = await api.search(query, SEARCH_AS_YOU_TYPE);
      if (seq === this.#searchSeq) this.results = results;
    } catch (error) {
      if (seq === this.#searchSeq) notices.report(error);
    }
  }

  async setReplayGain(mode: ReplayGainMode): Promise<void> {
    await this.#save(() => api.setReplaygain(mode));
  }

  async setKeepPlayingWhenClosed(on: boolean): Promise<void> {
    await this.#save(() => api.setKeepPlayingWhenClosed(on));
  }

  async setNotifyOnTrackChange(on: boolean): Promise<void> {
    await this.#save(() => api.setNotifyOnTrackChange(on));
  }

  async setOpenAddsFolders(on: boolean): Promise<void> {
    await this.#save(() => api.setOpenAddsFolders(on));
  }

  async setMiniPlayerOnTop(on: boolean): Promise<void> {
    await this.#save(() => api.setMiniPlayerOnTop(on));
  }

  async setOutputDevice(name: string | null): Promise<void> {
    await this.#save(() => api.setOutputDevice(name));
  }

  async #save(change: () => Promise<Settings>): Promise<void> {
    try {
      this.settings = await change();
    } catch (error) {
      notices.report(error);
    }
  }

  async setVolume(volume: number): Promise<void> {
    const previous = this.settings;
    if (previous) this.settings = { ...previous, volume };
    try {
      this.settings = await api.setVolume(volume);
    } catch (error) {
      this.settings = previous;
      notices.report(error);
    }
  }
}

export const app = new AppState();
