// The Songs table's columns: what each shows, what it sorts by, and how wide it starts.
import { formatDuration } from './format';
import { formatLastPlayed, formatPlayCount } from './listening';
import type { SortField, Track } from './bindings';

export interface Column {
  key: string;
  label: string;
  sort: SortField | null;
  width: number;
  align?: 'right';
  /** A cell the user clicks to change (a heart, stars) rather than text. */
  control?: 'loved' | 'rating';
  value: (track: Track) => string;
}

export const COLUMNS: Column[] = [
  { key: 'title', label: 'Title', sort: 'title', width: 280, value: (t) => t.title },
  { key: 'artist', label: 'Artist', sort: 'artist', width: 200, value: (t) => t.artist },
  { key: 'album', label: 'Album', sort: 'album', width: 220, value: (t) => t.album },
  { key: 'year', label: 'Year', sort: 'year', width: 64, align: 'right', value: (t) => (t.year ? String(t.year) : '') },
  { key: 'genre', label: 'Genre', sort: 'genre', width: 120, value: (t) => t.genre },
  {
    key: 'duration',
    label: 'Time',
    sort: 'duration',
    width: 64,
    align: 'right',
    value: (t) => formatDuration(t.duration_ms),
  },
  { key: 'loved', label: 'Loved', sort: 'loved', width: 56, control: 'loved', value: (t) => (t.loved ? 'loved' : '') },
  { key: 'rating', label: 'Rating', sort: 'rating', width: 100, control: 'rating', value: (t) => String(t.rating ?? '') },
  {
    key: 'plays',
    label: 'Plays',
    sort: 'play_count',
    width: 64,
    align: 'right',
    value: (t) => formatPlayCount(t.play_count),
  },
  { key: 'last_played', label: 'Last played', sort: 'last_played', width: 120, value: (t) => formatLastPlayed(t.last_played_ms) },
];

export const MIN_COLUMN_WIDTH = 48;
const STORAGE_KEY = 'loft.songs.columnWidths';

export function loadWidths(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): Record<string, number> {
  const defaults = Object.fromEntries(COLUMNS.map((c) => [c.key, c.width]));
  try {
    const saved = JSON.parse(storage?.getItem(STORAGE_KEY) ?? '{}') as Record<string, unknown>;
    for (const column of COLUMNS) {
      const width = saved[column.key];
      if (typeof width === 'number' && Number.isFinite(width)) defaults[column.key] = Math.max(MIN_COLUMN_WIDTH, width);
    }
  } catch {
    // Unreadable saved widths are replaced by the defaults.
  }
  return defaults;
}

export function saveWidths(widths: Record<string, number>, storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
  storage?.setItem(STORAGE_KEY, JSON.stringify(widths));
}
