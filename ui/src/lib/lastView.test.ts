import { describe, expect, it } from 'vitest';
import { describeView, parseLastView } from './lastView';

describe('the last view', () => {
  it('round-trips a view, and a playlist with its id', () => {
    expect(parseLastView(describeView('albums', null))).toEqual({ view: 'albums', id: null });
    expect(describeView('playlists', '01HZX3')).toBe('playlists/01HZX3');
    expect(parseLastView('playlists/01HZX3')).toEqual({ view: 'playlists', id: '01HZX3' });
    expect(parseLastView('smart/most-played')).toEqual({ view: 'smart', id: 'most-played' });
  });

  it('keeps an id only where a view has one', () => {
    expect(describeView('albums', 'stray')).toBe('albums');
    expect(parseLastView('settings/stray')).toEqual({ view: 'settings', id: null });
    expect(parseLastView('playlists/')).toEqual({ view: 'playlists', id: null });
  });

  it('reads what it does not know as the default', () => {
    for (const text of ['', 'radio', 'constructor', '__proto__/x', 'Songs']) {
      expect(parseLastView(text)).toBeNull();
    }
  });
});
