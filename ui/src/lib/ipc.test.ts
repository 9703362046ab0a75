import { afterEach, describe, expect, it } from 'vitest';
import { api } from './api';
import { LoftError, toLoftError } from './ipc';
import { clearMocks, mockCommands } from './testing';

afterEach(() => clearMocks());

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

describe('api', () => {
  it('passes the command and arguments through and returns the result', async () => {
    const seen: unknown[] = [];
    mockCommands((command, args) => {
      seen.push(command, args);
      return { volume: 0.5 };
    });
    await expect(api.setVolume(0.5)).resolves.toEqual({ volume: 0.5 });
    expect(seen).toEqual(['set_volume', { volume: 0.5 }]);
  });

  it('rejects with a LoftError when the core fails', async () => {
    mockCommands(() => {
      throw { kind: 'settings', message: 'the settings file is unreadable' };
    });
    await expect(api.getSettings()).rejects.toMatchObject({
      name: 'LoftError',
      kind: 'settings',
      message: 'the settings file is unreadable',
    });
  });

  it('rejects with a readable LoftError when Tauri refuses the call itself', async () => {
    mockCommands(() => {
      throw 'Command set_volume not allowed by ACL';
    });
    const error = await api.setVolume(0.5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoftError);
    expect(error).toMatchObject({ kind: 'internal', message: 'Command set_volume not allowed by ACL' });
  });
});
