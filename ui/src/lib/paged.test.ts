import { describe, expect, it } from 'vitest';
import { PagedRows } from './paged';

function source(total: number) {
  const calls: [number, number][] = [];
  const fetch = async (offset: number, limit: number) => {
    calls.push([offset, limit]);
    return Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => offset + i);
  };
  return { calls, fetch };
}

describe('PagedRows', () => {
  it('keeps a bounded number of pages, dropping those far from where the list is', async () => {
    const { calls, fetch } = source(100_000);
    const rows = new PagedRows(fetch, { pageSize: 100, maxPages: 4 });
    for (let start = 0; start < 3000; start += 100) await rows.ensure(start, start + 50);
    expect(rows.pagesHeld).toBeLessThanOrEqual(4);
    expect(rows.get(2950)).toBe(2950);
    expect(rows.get(0)).toBeUndefined();
    calls.length = 0;
    await rows.ensure(0, 50);
    expect(calls).toEqual([[0, 100]]);
  });

  it('fetches only the pages that cover the visible rows', async () => {
    const { calls, fetch } = source(1000);
    const rows = new PagedRows(fetch, { pageSize: 100 });
    await rows.ensure(150, 260);
    expect(calls).toEqual([
      [100, 100],
      [200, 100],
    ]);
    expect(rows.get(150)).toBe(150);
    expect(rows.get(299)).toBe(299);
    expect(rows.get(0)).toBeUndefined();
    await rows.ensure(120, 180);
    expect(calls).toHaveLength(2);
  });

  it('shares one request between overlapping asks', async () => {
    const { calls, fetch } = source(1000);
    const rows = new PagedRows(fetch, { pageSize: 100 });
    await Promise.all([rows.ensure(0, 50), rows.ensure(10, 90)]);
    expect(calls).toEqual([[0, 100]]);
  });

  it('drops pages that arrive after a reset', async () => {
    let release: (rows: number[]) => void = () => {};
    const rows = new PagedRows<number>(() => new Promise((resolve) => (release = resolve)), { pageSize: 10 });
    const pending = rows.ensure(0, 5);
    rows.reset();
    release([1, 2, 3]);
    await pending;
    expect(rows.get(0)).toBeUndefined();
  });

  it('reports a failed page and can fetch it again', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const rows = new PagedRows<number>(
      async (offset) => {
        if (fail) throw new Error('database is locked');
        return [offset];
      },
      { pageSize: 10, onError: (e) => errors.push(e) },
    );
    await rows.ensure(0, 1);
    expect(errors).toHaveLength(1);
    fail = false;
    await rows.ensure(0, 1);
    expect(rows.get(0)).toBe(0);
  });
});
