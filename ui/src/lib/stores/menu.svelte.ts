// The one open context menu, and the actions a track offers in it.
import type { MenuItem } from '../components/ContextMenu.svelte';
import { api } from '../api';
import type { Track } from '../bindings';
import { notices } from './notices.svelte';
import { player } from './player.svelte';

export interface OpenMenu {
  x: number;
  y: number;
  items: MenuItem[];
}

class MenuState {
  open = $state<OpenMenu | null>(null);

  show(x: number, y: number, items: MenuItem[]): void {
    this.open = { x, y, items };
  }

  close(): void {
    this.open = null;
  }
}

export const menu = new MenuState();

/** Extra actions other parts of the window add to the track menu (playlists, the locker). */
export type TrackActionProvider = (tracks: Track[]) => MenuItem[];
const providers: TrackActionProvider[] = [];

export function addTrackActions(provider: TrackActionProvider): void {
  providers.push(provider);
}

export function trackMenuItems(tracks: Track[], playAll: () => void): MenuItem[] {
  const single = tracks.length === 1 ? tracks[0] : undefined;
  return [
    { label: 'Play', action: playAll, testId: 'menu-play' },
    { label: 'Play next', action: () => void player.playNext(tracks), testId: 'menu-play-next' },
    { label: 'Add to queue', action: () => void player.append(tracks), testId: 'menu-add-to-queue' },
    ...providers.flatMap((provide) => provide(tracks)),
    {
      label: 'Show in folder',
      disabled: !single?.path,
      testId: 'menu-show-in-folder',
      action: () => {
        if (single) api.showInFolder(single.id).catch((e) => notices.report(e));
      },
    },
  ];
}
