// The core's commands as the UI calls them: the generated bindings (./bindings.ts), each
// rejecting with a LoftError on failure.
import { commands } from './bindings';
import { withLoftErrors } from './ipc';

export const api = withLoftErrors(commands);

/** Where the window loads a cover image from (see src-tauri/src/covers.rs). */
export function coverUrl(coverId: number, size: 'thumbnail' | 'original' = 'thumbnail'): string {
  const windows = typeof navigator !== 'undefined' && navigator.userAgent.includes('Windows');
  const base = windows ? 'http://cover.localhost' : 'cover://localhost';
  return size === 'original' ? `${base}/${coverId}?size=original` : `${base}/${coverId}`;
}
