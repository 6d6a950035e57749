import type { StorageKind, StoredValue } from '../types/value-type.js';
import type { MetadataStore, SeriesQuery, SeriesRead, SeriesWrite, Store, StoreCapabilities, Tags } from '../store-api/contract.js';
import { matchesTags, seriesKey } from '../store-api/series-key.js';
import { StoreUnavailableError } from '../store-api/unavailable.js';

interface StoredPoint {
  value: StoredValue;
  /** ms since epoch, or Infinity. */
  expires: number;
}

interface MemorySeries {
  metric: string;
  tags: Tags;
  type: string;
  storage: StorageKind;
  points: Map<number, StoredPoint>;
}

const PAGE_SIZE = 10_000;

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Current time in ms, for TTL expiry. @default Date.now */
  clock?: () => number;
}

/**
 * A store that keeps everything in process memory; for tests and demos.
 * @example
 * app.use(kairosdb({ store: new MemoryStore() }));
 */
export class MemoryStore implements Store {
  readonly capabilities: StoreCapabilities = { ttl: true, persistent: false };
  readonly #series = new Map<string, MemorySeries>();
  readonly #clock: () => number;
  #closed = false;
  readonly #meta = new Map<string, Map<string, Map<string, string>>>();
  readonly metadata: MetadataStore = {
    set: async (service, serviceKey, key, value) => {
      this.#assertOpen();
      let keys = this.#meta.get(service);
      if (!keys) this.#meta.set(service, (keys = new Map()));
      let values = keys.get(serviceKey);
      if (!values) keys.set(serviceKey, (values = new Map()));
      values.set(key, value);
    },
    get: async (service, serviceKey, key) => {
      this.#assertOpen();
      return this.#meta.get(service)?.get(serviceKey)?.get(key);
    },
    serviceKeys: async (service) => {
      this.#assertOpen();
      return [...(this.#meta.get(service)?.keys() ?? [])].sort();
    },
    keys: async (service, serviceKey) => {
      this.#assertOpen();
      return [...(this.#meta.get(service)?.get(serviceKey)?.keys() ?? [])].sort();
    },
    delete: async (service, serviceKey, key) => {
      this.#assertOpen();
      const keys = this.#meta.get(service);
      const values = keys?.get(serviceKey);
      if (!keys || !values) return;
      values.delete(key);
      if (values.size === 0) keys.delete(serviceKey);
      if (keys.size === 0) this.#meta.delete(service);
    },
  };

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? Date.now;
  }

  async write(series: readonly SeriesWrite[]): Promise<void> {
    this.#assertOpen();
    const now = this.#clock();
    for (const s of series) {
      const key = seriesKey(s.metric, s.type, s.tags);
      let entry = this.#series.get(key);
      if (!entry) {
        entry = { metric: s.metric, tags: s.tags, type: s.type, storage: s.storage, points: new Map() };
        this.#series.set(key, entry);
      }
      const expires = s.ttl > 0 ? now + s.ttl * 1000 : Infinity;
      for (let i = 0; i < s.timestamps.length; i++) {
        entry.points.set(s.timestamps[i] as number, { value: s.values[i] as StoredValue, expires });
      }
    }
  }

  async *read(query: SeriesQuery): AsyncIterable<SeriesRead> {
    this.#assertOpen();
    for (const entry of this.#select(query)) {
      const timestamps = this.#live(entry, query);
      if (timestamps.length === 0) continue;
      yield {
        metric: entry.metric,
        tags: entry.tags,
        type: entry.type,
        storage: entry.storage,
        points: async function* () {
          for (let i = 0; i < timestamps.length; i += PAGE_SIZE) {
            const page = Array.from(timestamps.subarray(i, i + PAGE_SIZE));
            yield { timestamps: page, values: page.map((ts) => (entry.points.get(ts) as StoredPoint).value) };
          }
        },
      };
    }
  }

  async metricNames(prefix = ''): Promise<string[]> {
    this.#assertOpen();
    const names = new Set<string>();
    const now = this.#clock();
    for (const entry of this.#series.values()) {
      if (!entry.metric.startsWith(prefix) || names.has(entry.metric)) continue;
      for (const p of entry.points.values()) {
        if (p.expires > now) {
          names.add(entry.metric);
          break;
        }
      }
    }
    return [...names].sort();
  }

  async delete(query: SeriesQuery): Promise<void> {
    this.#assertOpen();
    const start = query.start ?? -Infinity;
    const end = query.end ?? Infinity;
    for (const [key, entry] of [...this.#series]) {
      if (entry.metric !== query.metric || !matchesTags(entry.tags, query.tags)) continue;
      for (const ts of [...entry.points.keys()]) if (ts >= start && ts <= end) entry.points.delete(ts);
      if (entry.points.size === 0) this.#series.delete(key);
    }
  }

  async stats(): Promise<{ series: number; points: number }> {
    const now = this.#clock();
    let series = 0;
    let points = 0;
    for (const entry of this.#series.values()) {
      let live = 0;
      for (const p of entry.points.values()) if (p.expires > now) live++;
      if (live > 0) series++;
      points += live;
    }
    return { series, points };
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  *#select(query: SeriesQuery): Iterable<MemorySeries> {
    for (const entry of this.#series.values()) {
      if (entry.metric === query.metric && matchesTags(entry.tags, query.tags)) yield entry;
    }
  }

  /** The series' unexpired timestamps in the query's range and order. */
  /** The live timestamps in the range, sorted in the read's order (a typed array: its sort needs no comparator calls). */
  #live(entry: MemorySeries, query: SeriesQuery): Float64Array {
    const start = query.start ?? -Infinity;
    const end = query.end ?? Infinity;
    const now = this.#clock();
    const live: number[] = [];
    for (const [ts, p] of entry.points) if (ts >= start && ts <= end && p.expires > now) live.push(ts);
    const sorted = Float64Array.from(live).sort();
    return query.order === 'desc' ? sorted.reverse() : sorted;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError('MemoryStore is closed');
  }
}
