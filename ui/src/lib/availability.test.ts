import { describe, expect, it } from 'vitest';
import { playableNow, trackBadges } from './availability';

describe('playableNow', () => {
  it('plays local files and reachable locker tracks', () => {
    expect(playableNow({ source: 'local', offline: 'none' }, false)).toBe(true);
    expect(playableNow({ source: 'both', offline: 'none' }, false)).toBe(true);
    expect(playableNow({ source: 'locker', offline: 'none' }, true)).toBe(true);
  });

  it('greys locker-only tracks while offline unless the cache holds all of them', () => {
    expect(playableNow({ source: 'locker', offline: 'none' }, false)).toBe(false);
    expect(playableNow({ source: 'locker', offline: 'downloading' }, false)).toBe(false);
    expect(playableNow({ source: 'locker', offline: 'cached' }, false)).toBe(true);
    expect(playableNow({ source: 'locker', offline: 'pinned' }, false)).toBe(true);
  });
});

describe('trackBadges', () => {
  const ids = (badges: { testid: string }[]) => badges.map((b) => b.testid);

  it('says where the copies are and what the cache holds', () => {
    expect(ids(trackBadges({ source: 'local', offline: 'none', path: '/m/a.flac' }, new Set()))).toEqual([]);
    expect(ids(trackBadges({ source: 'both', offline: 'none', path: '/m/a.flac' }, new Set()))).toEqual(['locker-badge']);
    expect(ids(trackBadges({ source: 'locker', offline: 'pinned', path: null }, new Set()))).toEqual([
      'locker-badge',
      'downloaded-badge',
    ]);
    expect(ids(trackBadges({ source: 'locker', offline: 'downloading', path: null }, new Set()))).toEqual([
      'locker-badge',
      'downloading-badge',
    ]);
    expect(ids(trackBadges({ source: 'locker', offline: 'cached', path: null }, new Set()))).toEqual([
      'locker-badge',
      'cached-badge',
    ]);
  });

  it('marks a local file while it uploads', () => {
    const uploading = new Set(['/m/a.flac']);
    expect(ids(trackBadges({ source: 'local', offline: 'none', path: '/m/a.flac' }, uploading))).toEqual(['uploading-badge']);
    expect(ids(trackBadges({ source: 'local', offline: 'none', path: '/m/b.flac' }, uploading))).toEqual([]);
  });
});
