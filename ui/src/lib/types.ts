// The shapes the core sends over IPC; they mirror the serde output of loft-library and
// loft-core, field for field.

export type SortField =
  | 'title'
  | 'artist'
  | 'album'
  | 'album_artist'
  | 'year'
  | 'genre'
  | 'duration'
  | 'added'
  | 'play_count';

export interface Track {
  id: number;
  title: string;
  artist: string;
  artists: string[];
  album: string;
  album_artist: string;
  track_no: number | null;
  track_total: number | null;
  disc_no: number | null;
  disc_total: number | null;
  year: number | null;
  genre: string;
  composer: string;
  duration_ms: number;
  sample_rate: number | null;
  channels: number | null;
  bit_depth: number | null;
  bitrate_kbps: number | null;
  compilation: boolean;
  format: string;
  cover_id: number | null;
  play_count: number;
  added_at: number;
  path: string | null;
  sha256: string | null;
  /** Where its copies are: a file on this computer, the locker, or both. */
  source: TrackSource;
  /** What the offline cache holds of it. */
  offline: OfflineState;
}

export type TrackSource = 'local' | 'locker' | 'both';

/** The offline cache's copy: played and kept ("cached"), pinned and downloading, or pinned. */
export type OfflineState = 'none' | 'cached' | 'downloading' | 'pinned';

/**
 * Which tracks a list shows: all, those on this computer, those in the locker, or those that
 * play with no network (on this computer or complete in the offline cache).
 */
export type SourceFilter = 'all' | 'local' | 'locker' | 'offline';

export interface AlbumKey {
  album_artist: string;
  album: string;
}

export interface Album {
  title: string;
  album_artist: string;
  key: AlbumKey;
  year: number | null;
  track_count: number;
  duration_ms: number;
  cover_id: number | null;
}

export interface Artist {
  name: string;
  track_count: number;
  album_count: number;
}

export interface Folder {
  id: number;
  path: string;
  added_at: number;
}

export interface ScanError {
  path: string;
  reason: string;
}

export interface ScanReport {
  files_seen: number;
  added: number;
  updated: number;
  moved: number;
  removed: number;
  unchanged: number;
  errors: ScanError[];
  seconds: number;
}

export interface TrackQuery {
  sort: SortField;
  descending: boolean;
  offset: number;
  limit: number;
  source?: SourceFilter;
}

export interface Page {
  offset: number;
  limit: number;
}

export interface SearchResults {
  tracks: Track[];
  albums: Album[];
  artists: Artist[];
}

export interface Playlist {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
  track_count: number;
  duration_ms: number;
  unavailable_count: number;
}

export interface PlaylistEntry {
  entry_id: string;
  position: number;
  track: Track | null;
  sha256: string | null;
  title: string;
  artist: string;
  duration_ms: number;
}

export interface M3u8ImportReport {
  playlist: Playlist;
  added: number;
  unmatched: { line: number; text: string; reason: string }[];
}

export interface M3u8Export {
  path: string;
  written: number;
  not_written: { title: string; reason: string }[];
}

export interface LockerDevice {
  device: string;
  last_sync_ms: number;
}

export interface LockerStatus {
  url: string;
  locker_id: string;
  device: string;
  usage_bytes: number;
  quota_bytes: number;
  tracks: number;
  playlists: number;
  devices: LockerDevice[];
  last_sync_ms: number | null;
  backend_quota: { used_bytes: number | null; available_bytes: number | null } | null;
}

export interface UploadedFile {
  path: string;
  track_id: string;
  size: number;
  bytes_sent: number;
}

/** One file of the upload queue. */
export interface UploadItem {
  id: number;
  path: string;
  size: number;
  bytes_sent: number;
  state: 'queued' | 'sending' | 'done' | 'duplicate' | 'failed' | 'cancelled';
  error_kind: string | null;
  message: string | null;
}

export interface UploadReport {
  uploaded: UploadedFile[];
  duplicates: UploadedFile[];
  failed: { path: string; kind: string; message: string }[];
  bytes_sent: number;
}

export type CacheState =
  | { state: 'none' }
  | { state: 'partial'; bytes: number; size: number }
  | { state: 'complete'; size: number }
  | { state: 'pinned'; bytes: number; size: number };

export interface CacheStatus {
  used_bytes: number;
  limit_bytes: number;
  locker_reachable: boolean;
  tracks: { track_id: number; title: string; cache: CacheState }[];
}

export type GivenCredentials =
  | { kind: 'none' }
  | { kind: 's3'; access_key_id: string; secret_access_key: string }
  | { kind: 'web_dav'; user: string; password: string };

/** What "Test connection" found: `step` is "ok" or the step that failed. */
export interface ConnectionCheck {
  ok: boolean;
  step: 'ok' | 'url' | 'name_resolution' | 'connection' | 'tls' | 'credentials' | 'bucket' | 'permission' | 'format' | 'storage';
  message: string;
  locker_exists: boolean;
}
