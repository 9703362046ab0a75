// Which view is showing and the settings the UI reflects.
import { api, type AppInfo, type Settings } from '../api';
import { notices } from './notices.svelte';

export type View = 'songs' | 'albums' | 'artists' | 'playlists' | 'locker' | 'offline' | 'settings';

class AppState {
  view = $state<View>('songs');
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
