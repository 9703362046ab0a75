// Typed wrappers over the core's commands; the names match src-tauri/src/commands.rs.
import { call } from './ipc';

export type ReplayGainMode = 'off' | 'track' | 'album';

export interface AppInfo {
  version: string;
  data_dir: string;
  database: string;
  logs_dir: string;
}

export interface Settings {
  volume: number;
  output_device: string | null;
  replaygain: ReplayGainMode;
  cache_limit_bytes: number;
}

export const api = {
  appInfo: () => call<AppInfo>('app_info'),
  getSettings: () => call<Settings>('get_settings'),
  setVolume: (volume: number) => call<Settings>('set_volume', { volume }),
};
