// Rows of a long list fetched a page at a time, so a 100,000-track library never crosses IPC
// whole: the list asks for the rows it is about to show, and only missing pages are fetched.

export type FetchPage<T> = (offset: number, limit: number) => Promise<T[]>;

export class PagedRows<T> {
  readonly pageSize: number;
  #pages = new Map<number, T[]>();
  #inFlight = new Map<number, Promise<void>>();
  #generation = 0;
  #fetch: FetchPage<T>;
  #onChange: () => void;
  #onError: (error: unknown) => void;
  readonly #maxPages: number;

  constructor(
    fetch: FetchPage<T>,
    options: { pageSize?: number; maxPages?: number; onChange?: () => void; onError?: (error: unknown) => void } = {},
  ) {
    this.#fetch = fetch;
    this.pageSize = options.pageSize ?? 200;
    // A long scroll through a large library would otherwise keep every page it passed.
    this.#maxPages = Math.max(2, options.maxPages ?? 16);
    this.#onChange = options.onChange ?? (() => {});
    this.#onError = options.onError ?? (() => {});
  }

  /** The row at `index`, or undefined while its page is loading. */
  get(index: number): T | undefined {
    const page = this.#pages.get(Math.floor(index / this.pageSize));
    return page?.[index % this.pageSize];
  }

  /** Makes sure the pages covering rows `start` to `end` (exclusive) are loaded or loading. */
  ensure(start: number, end: number): Promise<void> {
    const first = Math.max(0, Math.floor(start / this.pageSize));
    const last = Math.max(first, Math.floor((Math.max(end, start + 1) - 1) / this.pageSize));
    this.#evictFarFrom(first, last);
    const loads: Promise<void>[] = [];
    for (let page = first; page <= last; page++) {
      if (this.#pages.has(page)) continue;
      loads.push(this.#inFlight.get(page) ?? this.#load(page));
    }
    return Promise.all(loads).then(() => undefined);
  }

  /** How many pages are held. */
  get pagesHeld(): number {
    return this.#pages.size;
  }

  /** Keeps at most `maxPages`, dropping those farthest from the pages now wanted. */
  #evictFarFrom(first: number, last: number): void {
    const room = this.#maxPages - (last - first + 1);
    if (this.#pages.size <= room) return;
    const distance = (page: number) => (page < first ? first - page : page > last ? page - last : 0);
    const byDistance = [...this.#pages.keys()].sort((a, b) => distance(b) - distance(a));
    for (const page of byDistance.slice(0, this.#pages.size - Math.max(0, room))) {
      if (distance(page) > 0) this.#pages.delete(page);
    }
  }

  /** Forgets every page (the sort changed, or the library did); pages load again on demand. */
  reset(): void {
    this.#generation += 1;
    this.#pages.clear();
    this.#inFlight.clear();
    this.#onChange();
  }

  #load(page: number): Promise<void> {
    const generation = this.#generation;
    const load = this.#fetch(page * this.pageSize, this.pageSize)
      .then((rows) => {
        // A reset while this page was in flight makes its rows stale.
        if (generation !== this.#generation) return;
        this.#pages.set(page, rows);
        this.#onChange();
      })
      .catch((error: unknown) => {
        if (generation === this.#generation) this.#onError(error);
      })
      .finally(() => {
        if (generation === this.#generation) this.#inFlight.delete(page);
      });
    this.#inFlight.set(page, load);
    return load;
  }
}
