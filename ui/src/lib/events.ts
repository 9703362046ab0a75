// The core's events, as the desktop shell forwards them on one channel; the channel's name and
// the payload's type come from the generated bindings.
import type { UnlistenFn } from '@tauri-apps/api/event';
import { events, type LoftEvent } from './bindings';

export type { LoftEvent };

export function onLoftEvent(handler: (event: LoftEvent) => void): Promise<UnlistenFn> {
  return events.loftEvent.listen((event) => handler(event.payload));
}
