// Where the window was, kept in the settings (`last_view`) so Loft opens there again: a view's
// name, and for playlists and smart playlists the open one's id after a slash.
import type { View } from './stores/app.svelte';

const VIEWS: readonly View[] = ['songs', 'albums', 'artists', 'playlists', 'smart', 'locker', 'offline', 'settings'];

export interface LastView {
  view: View;
  /** The open playlist or smart playlist, for those two views. */
  id: string | null;
}

export function describeView(view: View, id: string | null): string {
  return (view === 'playlists' || view === 'smart') && id ? `${view}/${id}` : view;
}

/** Reads what was saved; anything this version does not know gives null (the default view). */
export function parseLastView(text: string): LastView | null {
  const slash = text.indexOf('/');
  const name = slash < 0 ? text : text.slice(0, slash);
  const view = VIEWS.find((known) => known === name);
  if (!view) return null;
  const id = slash < 0 ? null : text.slice(slash + 1);
  return { view, id: (view === 'playlists' || view === 'smart') && id ? id : null };
}
