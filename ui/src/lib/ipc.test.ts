import { afterEach, describe, expect, it } from 'vitest';
import { call, LoftError, setInvoke, toLoftError } from './ipc';
import { invoke } from '@tauri-apps/api/core';

afterEach(() => setInvoke(invoke));

describe('toLoftError', () => {
  it('keeps the kind and message of a core error payload', () => {
    const error = toLoftError({ kind: 'invalid_input', message: 'volume must be between 0 and 1' });
    expect(error).toBeInstanceOf(LoftError);
    expect(error.kind).toBe('invalid_input');
    expect(error.message).toBe('volume must be between 0 and 1');
  });

  it('turns strings, errors and unknown values into readable internal errors', () => {
    expect(toLoftError('command not allowed').message).toBe('command not allowed');
    expect(toLoftError(new TypeError('bad')).kind).toBe('internal');
    expect(toLoftError(42).message).toMatch(/could not say what/);
  });
});

describe('call', () => {
  it('passes the command and arguments through and returns the result', async () => {
    const seen: unknown[] = [];
    setInvoke(async <T>(command: string, args?: Record<string, unknown>) => {
      seen.push(command, args);
      return { volume: 0.5 } as T;
    });
    await expect(call('set_volume', { volume: 0.5 })).resolves.toEqual({ volume: 0.5 });
    expect(seen).toEqual(['set_volume', { volume: 0.5 }]);
  });

  it('rejects with a LoftError when the core fails', async () => {
    setInvoke(async () => {
      throw { kind: 'settings', message: 'the settings file is unreadable' };
    });
    await expect(call('get_settings')).rejects.toMatchObject({
      name: 'LoftError',
      kind: 'settings',
      message: 'the settings file is unreadable',
    });
  });
});
