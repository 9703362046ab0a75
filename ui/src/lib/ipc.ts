// The one door between the UI and the Loft core. The commands themselves are generated from
// the Rust side (./bindings.ts); `api` in ./api.ts wraps each so every failure reaches the UI
// in one shape: a LoftError with a kind and a readable message.
import type { ErrorPayload } from './bindings';

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

type AnyCommand = (...args: never[]) => Promise<unknown>;

/** The same commands, each rejecting with a LoftError instead of whatever the call threw. */
export function withLoftErrors<Commands extends Record<string, AnyCommand>>(commands: Commands): Commands {
  const wrapped: Record<string, AnyCommand> = {};
  for (const [name, command] of Object.entries(commands)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await command(...args);
      } catch (error) {
        throw toLoftError(error);
      }
    };
  }
  return wrapped as Commands;
}
