// The one door between the UI and the Loft core. Every call goes through `call`, so every
// failure reaches the UI in one shape: a LoftError with a kind and a readable message.
import { invoke } from '@tauri-apps/api/core';

export interface ErrorPayload {
  kind: string;
  message: string;
}

export class LoftError extends Error {
  readonly kind: string;

  constructor(kind: string, message: string) {
    super(message);
    this.name = 'LoftError';
    this.kind = kind;
  }
}

function isPayload(value: unknown): value is ErrorPayload {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorPayload).kind === 'string' &&
    typeof (value as ErrorPayload).message === 'string'
  );
}

/** Turns whatever a failed call threw into a LoftError the UI can show. */
export function toLoftError(error: unknown): LoftError {
  if (error instanceof LoftError) return error;
  if (isPayload(error)) return new LoftError(error.kind, error.message);
  if (error instanceof Error) return new LoftError('internal', error.message);
  if (typeof error === 'string') return new LoftError('internal', error);
  return new LoftError('internal', 'Something went wrong, and the app could not say what.');
}

export type Invoke = <T>(command: string, args?: Record<string, unknown>) => Promise<T>;

let invoker: Invoke = invoke;

/** Lets unit tests stand in for the Tauri runtime. */
export function setInvoke(replacement: Invoke): void {
  invoker = replacement;
}

export async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoker<T>(command, args);
  } catch (error) {
    throw toLoftError(error);
  }
}
