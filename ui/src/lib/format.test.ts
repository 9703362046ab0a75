import { describe, expect, it } from 'vitest';
import { countOf, formatBytes, formatDuration } from './format';

describe('formatDuration', () => {
  it.each([
    [0, '0:00'],
    [83_000, '1:23'],
    [599_999, '9:59'],
    [3_723_000, '1:02:03'],
    [-5, '0:00'],
    [Number.NaN, '0:00'],
  ])('%d ms → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1_500, '1.5 KB'],
    [3_200_000_000, '3.2 GB'],
    [5_000_000_000, '5.0 GB'],
    [250_000_000, '250 MB'],
  ])('%d → %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});

describe('countOf', () => {
  it('says one thing in the singular and other counts in the plural, with separators', () => {
    expect(countOf(1, 'song')).toBe('1 song');
    expect(countOf(0, 'song')).toBe('0 songs');
    expect(countOf(2431, 'song')).toBe(`${(2431).toLocaleString()} songs`);
    expect(countOf(2, 'child', 'children')).toBe('2 children');
  });
});
