import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks, mockCommands } from '../testing';
import { app } from './app.svelte';
import { notices } from './notices.svelte';
import type { Settings } from '../bindings';

const settings: Settings = { volume: 0.8, output_device: null, replaygain: 'track', cache_limit_bytes: 2 ** 31, locker_url: null };

afterEach(() => {
  clearMocks();
  notices.items = [];
});

describe('app store', () => {
  it('loads the info and settings from the core', async () => {
    mockCommands(async <T>(command: string) => {
      if (command === 'app_info') return { version: '0.1.0', data_dir: '/d', database: '/d/db', logs_dir: '/d/logs' } as T;
      return settings as T;
    });
    await app.load();
    expect(app.info?.version).toBe('0.1.0');
    expect(app.settings).toEqual(settings);
  });

  it('keeps the previous volume and shows the reason when saving fails', async () => {
    app.settings = settings;
    mockCommands(async () => {
      throw { kind: 'io', message: 'input/output error: disk full' };
    });
    await app.setVolume(0.2);
    expect(app.settings?.volume).toBe(0.8);
    expect(notices.items.map((n) => n.message)).toEqual(['input/output error: disk full']);
  });
});
