import { describe, expect, it } from 'vitest';
import { formatLastPlayed, formatPlayCount, pendingChangesText, ratingAfterClick, ratingLabel } from './listening';

describe('ratings', () => {
  it('sets the clicked number of stars, and clears when the lit last star is clicked again', () => {
    expect(ratingAfterClick(null, 4)).toBe(4);
    expect(ratingAfterClick(2, 4)).toBe(4);
    expect(ratingAfterClick(4, 4)).toBeNull();
    expect(ratingAfterClick(0, 1)).toBe(1);
  });

  it('keeps a click within one to five stars', () => {
    expect(ratingAfterClick(null, 9)).toBe(5);
    expect(ratingAfterClick(null, -2)).toBe(1);
  });

  it('reads a rating aloud', () => {
    expect(ratingLabel(null)).toBe('Not rated');
    expect(ratingLabel(0)).toBe('Not rated');
    expect(ratingLabel(1)).toBe('Rated 1 of 5 stars');
    expect(ratingLabel(4)).toBe('Rated 4 of 5 stars');
  });
});

describe('plays', () => {
  it('leaves the count blank for a track never played', () => {
    expect(formatPlayCount(0)).toBe('');
    expect(formatPlayCount(3)).toBe('3');
  });

  it('says when a track was last played the way a person would', () => {
    const now = new Date(2026, 5, 10, 15, 0).getTime();
    expect(formatLastPlayed(null, now)).toBe('');
    expect(formatLastPlayed(now - 20_000, now)).toBe('just now');
    expect(formatLastPlayed(now - 12 * 60_000, now)).toBe('12 min ago');
    expect(formatLastPlayed(new Date(2026, 5, 10, 11, 30).getTime(), now)).toBe('3 h ago');
    expect(formatLastPlayed(new Date(2026, 5, 9, 23, 0).getTime(), now)).toBe('yesterday');
    expect(formatLastPlayed(new Date(2026, 5, 5, 9, 0).getTime(), now)).toBe('5 days ago');
    const old = new Date(2026, 0, 2, 9, 0).getTime();
    expect(formatLastPlayed(old, now)).toBe(new Date(old).toLocaleDateString());
  });

  it('treats a clock that ran backwards as just now', () => {
    const now = Date.now();
    expect(formatLastPlayed(now + 5_000, now)).toBe('just now');
  });
});

describe('pending changes', () => {
  it('names what waits, and nothing when nothing does', () => {
    expect(pendingChangesText(0)).toBeNull();
    expect(pendingChangesText(1)).toBe('1 change waiting to sync');
    expect(pendingChangesText(3)).toBe('3 changes waiting to sync');
  });
});
