import { describe, expect, it } from 'vitest';
import type { CheckReport } from './bindings';
import { findingLabel, summarizeCheck } from './check';

const clean: CheckReport = { checked_ms: 1, blobs_checked: 120, parts_checked: 480, bytes_read: 3_200_000_000, findings: [] };

describe('a locker check as the cloud pane tells it', () => {
  it('says a clean locker is fine, with what was verified', () => {
    expect(summarizeCheck(clean)).toEqual({
      ok: true,
      headline: 'No damage found (120 songs verified, 3.2 GB read)',
      problems: [],
      unreferenced: 0,
    });
  });

  it('lists damage with its repair and counts unreferenced pieces apart', () => {
    const damaged = { kind: 'damaged_part' as const, id: 'abc', detail: 'part 3 does not match', repair: 'upload it again' };
    const summary = summarizeCheck({
      ...clean,
      findings: [damaged, { kind: 'unreferenced_parts', id: 'def', detail: '2 parts', repair: 'gc' }],
    });
    expect(summary.ok).toBe(false);
    expect(summary.headline).toBe('1 problem found (120 songs verified, 3.2 GB read)');
    expect(summary.problems).toEqual([damaged]);
    expect(summary.unreferenced).toBe(1);
  });

  it('treats unreferenced pieces alone as no damage', () => {
    const summary = summarizeCheck({ ...clean, findings: [{ kind: 'unreferenced_manifest', id: 'x', detail: '', repair: '' }] });
    expect(summary.ok).toBe(true);
    expect(summary.unreferenced).toBe(1);
  });

  it('names each kind of finding', () => {
    expect(findingLabel('missing_manifest')).toBe('Missing');
    expect(findingLabel('unreadable_log')).toBe('Unreadable change log');
  });
});
