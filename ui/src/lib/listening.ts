// How hearts, ratings and plays read in the window.

/** The most stars a track can have. */
export const MAX_STARS = 5;

/**
 * The rating after a click on star `clicked` (1–5): that many stars, or none when the track
 * already had exactly that many (clicking the lit last star takes the rating back).
 */
export function ratingAfterClick(current: number | null, clicked: number): number | null {
  const stars = Math.min(MAX_STARS, Math.max(1, Math.round(clicked)));
  return current === stars ? null : stars;
}

/** "Rated 4 of 5 stars", "Not rated": what a screen reader hears for a rating. */
export function ratingLabel(rating: number | null): string {
  if (rating === null || rating <= 0) return 'Not rated';
  return `Rated ${rating} of ${MAX_STARS} stars`;
}

/** The play count as a column shows it: blank for never, so the played tracks stand out. */
export function formatPlayCount(count: number): string {
  return count > 0 ? count.toLocaleString() : '';
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * When a track was last played, as a person says it: "just now", "12 min ago", "3 h ago",
 * "yesterday", "5 days ago", then the date. Blank when it never was.
 */
export function formatLastPlayed(playedMs: number | null, nowMs = Date.now()): string {
  if (playedMs === null || !Number.isFinite(playedMs) || playedMs <= 0) return '';
  const ago = Math.max(0, nowMs - playedMs);
  if (ago < MINUTE) return 'just now';
  if (ago < HOUR) return `${Math.floor(ago / MINUTE)} min ago`;
  if (ago < DAY && new Date(playedMs).getDate() === new Date(nowMs).getDate()) return `${Math.floor(ago / HOUR)} h ago`;
  const days = calendarDaysBetween(playedMs, nowMs);
  if (days <= 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  return new Date(playedMs).toLocaleDateString();
}

/** Midnights crossed between two instants, in local time. */
function calendarDaysBetween(fromMs: number, toMs: number): number {
  const midnight = (ms: number) => {
    const day = new Date(ms);
    return new Date(day.getFullYear(), day.getMonth(), day.getDate()).getTime();
  };
  return Math.round((midnight(toMs) - midnight(fromMs)) / DAY);
}

/** "3 changes waiting to sync"; null when nothing waits. */
export function pendingChangesText(count: number): string | null {
  if (!Number.isFinite(count) || count <= 0) return null;
  return `${count.toLocaleString()} ${count === 1 ? 'change' : 'changes'} waiting to sync`;
}
