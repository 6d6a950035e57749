import type { StoredValue } from '../types/value-type.js';
import type { Coordination, MetadataStore, SeriesQuery, SeriesRead, SeriesWrite, Store, StoreCapabilities, Tags } from '../store-api/contract.js';
import { rangeOf } from '../store-api/series-key.js';
import { SeriesIndex } from '../store-api/series-index.js';
import { SeriesMap } from '../store-api/series-map.js';
import { SeriesColumns } from './memory-columns.js';
import { StoreUnavailableError } from '../store-api/unavailable.js';

interface MemorySeries {
  /** Its hash in the series index: random, so that the index's shards fill unevenly and grow at different times. */
  hash: number;
  metric: string;
  tags: Tags;
  type: string;
  columns: SeriesColumns;
}

const PAGE_SIZE = 10_000;

/** New series a write adds between two turns it gives the event loop. */
const NEW_SERIES_SLICE = 1000;

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
  readonly #series = new SeriesMap<MemorySeries>();
  readonly #index = new SeriesIndex<MemorySeries>((s) => s.hash);
  /** New series `#entryOf` added since the write last gave the event loop a turn. */
  #added = 0;
  /** Counts deletes of whole series: a write that gave the event loop turns looks its series up again after one. */
  #removals = 0;
  readonly #clock: () => number;
  #closed = false;
  readonly #meta = new Map<string, Map<string, Map<string, string>>>();
  readonly #shared = new Map<string, string>();
  readonly coordination: Coordination = {
    get: async (name) => {
      this.#assertOpen();
      return this.#shared.get(name);
    },
    compareAndSet: async (name, expected, next) => {
      this.#assertOpen();
      if (this.#shared.get(name) !== expected) return false;
      if (next === undefined) this.#shared.delete(name);
      else this.#shared.set(name, next);
      return true;
    },
  };
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
    count: async (service, atMost) => {
      this.#assertOpen();
      let n = 0;
      for (const values of this.#meta.get(service)?.values() ?? []) if ((n += values.size) >= atMost) return atMost;
      return n;
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
    // New series are added (empty: reads skip them) a slice at a time, giving the event loop a turn between slices;
    // then every point goes in at once, so a read sees all of the write or none of it.
    const entries: MemorySeries[] = new Array(series.length);
    const removals = this.#removals;
    this.#added = 0;
    for (let i = 0; i < series.length; i++) {
      if (this.#added >= NEW_SERIES_SLICE) {
        this.#added = 0;
        await new Promise((resolve) => setImmediate(resolve));
        this.#assertOpen();
      }
      entries[i] = this.#entryOf(series[i] as SeriesWrite);
    }
    const now = this.#clock();
    for (let i = 0; i < series.length; i++) {
      const s = series[i] as SeriesWrite;
      // A delete of whole series during a turn may have removed one added before it: then each is looked up again.
      const entry = this.#removals !== removals ? this.#entryOf(s) : (entries[i] as MemorySeries);
      entry.columns.add(s.timestamps, s.values, s.ttl > 0 ? Math.ceil((now + s.ttl * 1000) / 1000) : 0);
    }
  }

  #entryOf(s: SeriesWrite): MemorySeries {
    let entry = this.#series.get(s.metric, s.type, s.tags);
    if (!entry) {
      entry = { hash: (Math.random() * 0x1_0000_0000) >>> 0, metric: s.metric, tags: s.tags, type: s.type, columns: new SeriesColumns(s.storage) };
      this.#series.set(s.metric, s.type, s.tags, entry);
      this.#index.add(s.metric, s.tags, entry);
      this.#added++;
    }
    return entry;
  }

  async *read(query: SeriesQuery): AsyncIterable<SeriesRead> {
    this.#assertOpen();
    const { start, end } = rangeOf(query);
    const now = this.#clock();
    for (const entry of this.#select(query)) {
      const { columns } = entry;
      const from = columns.lowerBound(start);
      const to = columns.lowerBound(end + 1);
      let any = false;
      for (let i = from; i < to && !any; i++) any = columns.live(i, now);
      if (!any) continue;
      const desc = query.order === 'desc';
      yield {
        metric: entry.metric,
        tags: entry.tags,
        type: entry.type,
        storage: columns.storage,
        points: async function* () {
          let timestamps: number[] = [];
          let values: StoredValue[] = [];
          let expires: number[] | undefined = query.expiry ? [] : undefined;
          for (let k = 0; k < to - from; k++) {
            const i = desc ? to - 1 - k : from + k;
            if (i >= columns.length || !columns.live(i, now)) continue;
            timestamps.push(columns.timestamp(i));
            values.push(columns.value(i));
            expires?.push(columns.expiry(i) * 1000);
            if (timestamps.length === PAGE_SIZE) {
              yield expires ? { timestamps, values, expires } : { timestamps, values };
              timestamps = [];
              values = [];
              if (expires) expires = [];
            }
          }
          if (timestamps.length > 0) yield expires ? { timestamps, values, expires } : { timestamps, values };
        },
      };
    }
  }

  /** From the index: a metric is listed while it has series, as in the other stores (expired points do not unlist it). */
  async metricNames(prefix = ''): Promise<string[]> {
    this.#assertOpen();
    return this.#index.names(prefix);
  }

  async metricNamesWithTag(prefix: string, name: string, value: string): Promise<string[]> {
    this.#assertOpen();
    return this.#index.namesWithTag(prefix, name, value);
  }

  async countNewSeries(series: readonly SeriesWrite[]): Promise<number> {
    this.#assertOpen();
    let n = 0;
    for (const s of series) if (this.#series.get(s.metric, s.type, s.tags) === undefined) n++;
    return n;
  }

  async countSeries(query: SeriesQuery, atMost: number): Promise<number> {
    this.#assertOpen();
    return this.#index.count(query.metric, query.tags, atMost);
  }

  async delete(query: SeriesQuery): Promise<void> {
    this.#assertOpen();
    const { start, end } = rangeOf(query);
    const whole = query.start === undefined && query.end === undefined && query.tags === undefined;
    for (const entry of [...this.#index.select(query.metric, query.tags)]) {
      const { columns } = entry;
      columns.retain((i) => {
        const ts = columns.timestamp(i);
        return ts < start || ts > end;
      });
      // A series goes with a delete of its whole metric, as in the other stores; a range delete leaves it (empty).
      if (whole) {
        this.#removals++;
        this.#series.delete(entry.metric, entry.type, entry.tags);
        this.#index.remove(entry.metric, entry.tags, entry);
      }
    }
  }

  /** `series`: how many series it holds (expired ones until a purge or delete removes them). */
  async figures(): Promise<Readonly<Record<string, number>>> {
    return { series: this.#series.size };
  }

  async stats(): Promise<{ series: number; points: number }> {
    const now = this.#clock();
    let series = 0;
    let points = 0;
    let seen = 0;
    for (const { columns } of this.#series.values()) {
      if (++seen % 10_000 === 0) await new Promise((resolve) => setImmediate(resolve));
      let live = 0;
      if (!columns.expiring) live = columns.length;
      else for (let i = 0; i < columns.length; i++) if (columns.live(i, now)) live++;
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

  #select(query: SeriesQuery): Iterable<MemorySeries> {
    return this.#index.select(query.metric, query.tags);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError('MemoryStore is closed');
  }
}
