// Typed wrappers over the core's commands; the names match src-tauri/src/commands/.
import { call } from './ipc';
import type {
  Album,
  AlbumKey,
  Artist,
  CacheStatus,
  Folder,
  ConnectionCheck,
  GivenCredentials,
  LockerStatus,
  M3u8Export,
  M3u8ImportReport,
  Page,
  Playlist,
  PlaylistEntry,
  ScanReport,
  SearchResults,
  SourceFilter,
  Track,
  TrackQuery,
  UploadItem,
} from './types';

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
  /** The connected locker's URL; its credentials are never in the settings. */
  locker_url: string | null;
}

export interface DeviceInfo {
  name: string;
  description: string;
  is_default: boolean;
}

export type RepeatMode = 'off' | 'one' | 'all';

export interface PlayerStatus {
  state: 'playing' | 'paused' | 'buffering' | 'stopped';
  index: number | null;
  track_id: number | null;
  position_secs: number;
  duration_secs: number | null;
  queue: number[];
  shuffle: boolean;
  repeat: RepeatMode;
}

export const api = {
  appInfo: () => call<AppInfo>('app_info'),
  getSettings: () => call<Settings>('get_settings'),
  setVolume: (volume: number) => call<Settings>('set_volume', { volume }),
  setReplayGain: (mode: ReplayGainMode) => call<Settings>('set_replaygain', { mode }),
  setOutputDevice: (name: string | null) => call<Settings>('set_output_device', { name }),
  outputDevices: () => call<DeviceInfo[]>('output_devices'),

  libraryFolders: () => call<Folder[]>('library_folders'),
  addLibraryFolder: (path: string) => call<Folder>('add_library_folder', { path }),
  removeLibraryFolder: (path: string) => call<number>('remove_library_folder', { path }),
  pickFolder: () => call<string | null>('pick_folder'),
  scanLibrary: () => call<ScanReport>('scan_library'),
  tracks: (query: TrackQuery) => call<Track[]>('tracks', { query }),
  trackCount: (source: SourceFilter = 'all') => call<number>('track_count', { source }),
  search: (text: string, limit = 200) => call<SearchResults>('search', { text, limit }),
  albums: (page: Page) => call<Album[]>('albums', { page }),
  albumTracks: (key: AlbumKey) => call<Track[]>('album_tracks', { key }),
  artists: (page: Page) => call<Artist[]>('artists', { page }),
  artistTracks: (artist: string) => call<Track[]>('artist_tracks', { artist }),
  showInFolder: (trackId: number) => call<void>('show_in_folder', { trackId }),
  tracksById: (ids: number[]) => call<Track[]>('tracks_by_id', { ids }),

  playlists: () => call<Playlist[]>('playlists'),
  playlistTracks: (id: string) => call<PlaylistEntry[]>('playlist_tracks', { id }),
  createPlaylist: (name: string) => call<Playlist>('create_playlist', { name }),
  renamePlaylist: (id: string, name: string) => call<Playlist>('rename_playlist', { id, name }),
  deletePlaylist: (id: string) => call<void>('delete_playlist', { id }),
  playlistAdd: (id: string, trackIds: number[], at: number | null = null) =>
    call<string[]>('playlist_add', { id, trackIds, at }),
  playlistRemove: (id: string, entryIds: string[]) => call<number>('playlist_remove', { id, entryIds }),
  playlistMove: (id: string, entryId: string, to: number) => call<void>('playlist_move', { id, entryId, to }),
  importM3u8: () => call<M3u8ImportReport | null>('import_m3u8'),
  exportM3u8: (id: string, name: string) => call<M3u8Export | null>('export_m3u8', { id, name }),

  lockerStatus: () => call<LockerStatus | null>('locker_status'),
  connectLocker: (url: string, credentials: GivenCredentials) =>
    call<LockerStatus>('connect_locker', { url, credentials }),
  testLockerConnection: (url: string, credentials: GivenCredentials) =>
    call<ConnectionCheck>('test_locker_connection', { url, credentials }),
  disconnectLocker: () => call<number>('disconnect_locker'),
  setLockerQuota: (bytes: number) => call<LockerStatus>('set_locker_quota', { bytes }),
  uploadPaths: (paths: string[]) => call<UploadItem[]>('upload_paths', { paths }),
  pickAndUpload: () => call<UploadItem[] | null>('pick_and_upload'),
  uploads: () => call<UploadItem[]>('uploads'),
  cancelUpload: (id: number) => call<UploadItem>('cancel_upload', { id }),
  retryUpload: (id: number) => call<UploadItem>('retry_upload', { id }),
  clearFinishedUploads: () => call<void>('clear_finished_uploads'),
  syncLocker: () => call<unknown>('sync_locker'),
  removeFromLocker: (trackId: number) => call<void>('remove_from_locker', { trackId }),
  pinTracks: (trackIds: number[]) => call<void>('pin_tracks', { trackIds }),
  unpinTracks: (trackIds: number[]) => call<void>('unpin_tracks', { trackIds }),
  cacheStatus: () => call<CacheStatus>('cache_status'),
  setCacheLimit: (bytes: number) => call<void>('set_cache_limit', { bytes }),
  clearCache: () => call<number>('clear_cache'),

  playerStatus: () => call<PlayerStatus>('player_status'),
  playTracks: (ids: number[], start: number) => call<void>('play_tracks', { ids, start }),
  queuePlayNext: (ids: number[]) => call<void>('queue_play_next', { ids }),
  queueAppend: (ids: number[]) => call<void>('queue_append', { ids }),
  queueRemove: (index: number) => call<void>('queue_remove', { index }),
  queueMove: (from: number, to: number) => call<void>('queue_move', { from, to }),
  queueClear: () => call<void>('queue_clear'),
  togglePlay: () => call<void>('toggle_play'),
  next: () => call<void>('next_track'),
  previous: () => call<void>('previous_track'),
  seek: (positionSecs: number) => call<void>('seek', { positionSecs }),
  setShuffle: (on: boolean) => call<void>('set_shuffle', { on }),
  setRepeat: (mode: RepeatMode) => call<void>('set_repeat', { mode }),
};

/** Where the window loads a cover image from (see src-tauri/src/covers.rs). */
export function coverUrl(coverId: number, size: 'thumbnail' | 'original' = 'thumbnail'): string {
  const windows = typeof navigator !== 'undefined' && navigator.userAgent.includes('Windows');
  const base = windows ? 'http://cover.localhost' : 'cover://localhost';
  return size === 'original' ? `${base}/${coverId}?size=original` : `${base}/${coverId}`;
}
