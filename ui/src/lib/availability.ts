// Where a track can play from right now, and the badges a row shows for it. Kept apart from
// the components so the rules are tested once and read the same in every list.
import type { Track } from './bindings';

/** Whether the offline cache holds all of the track (it plays with no network). */
export function completeOffline(track: Pick<Track, 'offline'>): boolean {
  return track.offline === 'cached' || track.offline === 'pinned';
}

/**
 * Whether the track can play now: a file on this computer always can; a locker track needs
 * the locker to answer or a complete copy in the offline cache.
 */
export function playableNow(track: Pick<Track, 'source' | 'offline'>, lockerReachable: boolean): boolean {
  return track.source !== 'locker' || lockerReachable || completeOffline(track);
}

export interface Badge {
  symbol: string;
  label: string;
  testid: string;
}

/** The badges of a row: on this computer and/or in the locker, downloaded, uploading. */
export function trackBadges(track: Pick<Track, 'source' | 'offline' | 'path'>, uploadingPaths: ReadonlySet<string>): Badge[] {
  const badges: Badge[] = [];
  if (track.source === 'both') {
    badges.push({ symbol: '☁', label: 'On this computer and in the locker', testid: 'locker-badge' });
  } else if (track.source === 'locker') {
    badges.push({ symbol: '☁', label: 'In the locker', testid: 'locker-badge' });
  }
  if (track.offline === 'pinned') {
    badges.push({ symbol: '⤓', label: 'Downloaded for offline', testid: 'downloaded-badge' });
  } else if (track.offline === 'downloading') {
    badges.push({ symbol: '⇣', label: 'Downloading for offline', testid: 'downloading-badge' });
  } else if (track.offline === 'cached' && track.source === 'locker') {
    badges.push({ symbol: '⤓', label: 'Kept in the offline cache', testid: 'cached-badge' });
  }
  if (track.path && uploadingPaths.has(track.path)) {
    badges.push({ symbol: '⇡', label: 'Uploading to the locker', testid: 'uploading-badge' });
  }
  return badges;
}
