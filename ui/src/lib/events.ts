// The core's events, as the desktop shell forwards them on one channel (`loft://event`).
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { Settings } from './api';
import type { UploadItem } from './types';

export type LoftEvent =
  | { type: 'settings_changed'; settings: Settings }
  | {
      type: 'upload_progress';
      files_done: number;
      files_total: number;
      bytes_sent: number;
      bytes_total: number;
      current: string | null;
    }
  | { type: 'upload_finished'; uploaded: number; duplicates: number; failed: number; bytes_sent: number }
  | { type: 'uploads_changed'; items: UploadItem[] }
  | {
      type: 'sync_finished';
      ops_applied: number;
      tracks_changed: number;
      tracks_removed: number;
      playlists_changed: number;
      playlists_deleted: number;
      inbox_imported: number;
      problems: string[];
    }
  | { type: 'locker_unreachable'; message: string }
  | { type: 'locker_reachable' }
  | { type: 'scan_progress'; files_seen: number; files_to_read: number; files_read: number }
  | {
      type: 'scan_finished';
      files_seen: number;
      added: number;
      updated: number;
      moved: number;
      removed: number;
      errors: number;
      seconds: number;
    }
  | { type: 'library_changed'; added: number; updated: number; moved: number; removed: number }
  | { type: 'library_watch_failed'; message: string }
  | { type: 'playback_position'; index: number; track_id: number; position_secs: number; duration_secs: number | null }
  | { type: 'track_changed'; index: number; track_id: number; name: string; duration_secs: number | null }
  | { type: 'playback_state'; state: PlaybackStateName }
  | { type: 'playback_error'; index: number | null; name: string; kind: string; message: string }
  | { type: 'queue_ended' }
  | { type: 'playlists_changed'; ids: string[] }
  | { type: 'download_progress'; track_id: number; bytes: number; size: number }
  | { type: 'cache_changed'; track_ids: number[] }
  | { type: 'queue_changed'; track_ids: number[]; shuffle: boolean; repeat: 'off' | 'one' | 'all' };

export type PlaybackStateName = 'playing' | 'paused' | 'buffering' | 'stopped';

export const EVENT_CHANNEL = 'loft://event';

export type Listen = (handler: (event: LoftEvent) => void) => Promise<UnlistenFn>;

let listener: Listen = (handler) => listen<LoftEvent>(EVENT_CHANNEL, (event) => handler(event.payload));

/** Lets unit tests stand in for the Tauri runtime. */
export function setListen(replacement: Listen): void {
  listener = replacement;
}

export function onLoftEvent(handler: (event: LoftEvent) => void): Promise<UnlistenFn> {
  return listener(handler);
}
