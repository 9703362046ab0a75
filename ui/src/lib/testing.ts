// For unit tests only: stands in for the Tauri runtime under the generated bindings.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';

export { clearMocks };

/** What a test's stand-in backend gets: the command's Rust name and the arguments object. */
export type CommandHandler = (command: string, args: Record<string, unknown>) => unknown;

/** Answers every command the UI sends with `handler`; a throw is the call's rejection. */
export function mockCommands(handler: CommandHandler): void {
  mockIPC((command, payload) => handler(command, (payload ?? {}) as Record<string, unknown>));
}
