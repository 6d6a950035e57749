/**
 * The series ids the store's thread knows, and a write's batch packed with them. A delete of whole series, or a
 * write rolled back after adding series, lets ids go (they may come back for other series): `forget()` counts a
 * generation, and a batch packed in an earlier one is written whole again.
 */
import type Database from 'better-sqlite3';
import type { SeriesWrite, Tags } from '../../store-api/contract.js';
import { tagsKey } from '../../store-api/series-key.js';
import { SeriesMap } from '../../store-api/series-map.js';
import type { StoredValue } from '../../types/value-type.js';
import { RecentBatches, type PackedBatch, type SeriesPart } from './recent.js';
import type { SqliteSeriesIndex } from './series-index.js';
import type { Statements } from './statements.js';

/** Series ids kept in memory; others are looked up in the database (a million series must not mean a million entries). */
const CACHED_IDS = 200_000;

/** A write's batch and the generation of the ids it was packed with. */
export interface Packed {
  readonly ids: number;
  readonly batch: PackedBatch | undefined;
}

export class SeriesIds {
  readonly #ids = new SeriesMap<number>(CACHED_IDS);
  /** Counts the times ids were let go. */
  generation = 0;
  readonly #writeAll: (series: readonly SeriesWrite[], now: number) => void;
  readonly #registerAll: (series: readonly SeriesWrite[]) => Float64Array;

  constructor(
    db: Database.Database,
    private readonly sql: Statements,
    recent: RecentBatches,
    private readonly index: SqliteSeriesIndex,
  ) {
    this.#writeAll = db.transaction((series: readonly SeriesWrite[], now: number) => {
      const parts: SeriesPart[] = [];
      for (const s of series) {
        const part = partOf(this.#idOf(s), s, now);
        if (part) parts.push(part);
      }
      recent.append(parts);
    });
    this.#registerAll = db.transaction((series: readonly SeriesWrite[]) => {
      const ids = new Float64Array(series.length);
      series.forEach((s, i) => this.#ids.set(s.metric, s.type, s.tags, (ids[i] = this.#insert(s))));
      return ids;
    });
  }

  /** How many of the series the database does not hold (the cache first, then the database for the others). */
  countNew(series: readonly SeriesWrite[]): number {
    let n = 0;
    for (const s of series) {
      if (this.#ids.get(s.metric, s.type, s.tags) !== undefined) continue;
      if (this.sql.seriesId.get(s.metric, s.type, tagsKey(s.tags)) === undefined) n++;
    }
    return n;
  }

  /**
   * Puts the ids known here of `series[from…to)` in `ids` (NaN for a series not known: new, or one the bounded cache
   * let go); returns how many are not known.
   */
  lookUp(series: readonly SeriesWrite[], from: number, to: number, ids: Float64Array): number {
    let unknown = 0;
    for (let i = from; i < to; i++) {
      const s = series[i] as SeriesWrite;
      const id = this.#ids.get(s.metric, s.type, s.tags);
      ids[i] = id ?? Number.NaN;
      if (id === undefined) unknown++;
    }
    return unknown;
  }

  /**
   * Adds series (and their index entries) in one transaction, without points: a write registers its new series a
   * slice at a time before its points go in, so a request of many new series never holds the event loop long. A
   * series left without points (its write failed later) is harmless: reads skip it, and its metric is listed as one
   * whose points all expired is.
   */
  register(series: readonly SeriesWrite[]): Float64Array {
    try {
      return this.#registerAll(series);
    } catch (error) {
      this.forget();
      throw error;
    }
  }

  /** The write's batch, packed with the series' ids (looked up in this generation). */
  pack(series: readonly SeriesWrite[], ids: Float64Array, now: number): Packed {
    const parts: SeriesPart[] = [];
    series.forEach((s, i) => {
      const part = partOf(ids[i] as number, s, now);
      if (part) parts.push(part);
    });
    return { ids: this.generation, batch: RecentBatches.pack(parts) };
  }

  /** Adds the write's new series and its batch, in one transaction. */
  writeWhole(series: readonly SeriesWrite[], now: number): void {
    try {
      this.#writeAll(series, now);
    } catch (error) {
      // Rolled back: the ids it gave new series name none now.
      this.forget();
      throw error;
    }
  }

  /** Lets every id go. */
  forget(): void {
    this.#ids.clear();
    this.generation++;
  }

  #idOf(s: SeriesWrite): number {
    let id = this.#ids.get(s.metric, s.type, s.tags);
    if (id === undefined) {
      id = this.#insert(s);
      this.#ids.set(s.metric, s.type, s.tags, id);
    }
    return id;
  }

  #insert(s: SeriesWrite): number {
    return addSeries(this.sql, this.index, s.metric, s.type, s.storage, s.tags, tagsKey(s.tags));
  }

  /**
   * Keeps the ids the compaction worker gave series (see `registration`), unless ids were let go since `generation`
   * (a delete of whole series came between: the write then packs its series the slow way).
   */
  learn(series: readonly SeriesWrite[], ids: ArrayLike<number>, generation: number): void {
    if (generation !== this.generation) return;
    series.forEach((s, i) => this.#ids.set(s.metric, s.type, s.tags, ids[i] as number));
  }
}

/** The id of a series, added (and indexed) when it is new; `key` is its `tagsKey`. */
export function addSeries(sql: Statements, index: SqliteSeriesIndex, metric: string, type: string, storage: string, tags: Tags, key: string): number {
  const added = sql.insertSeries.get(metric, type, storage, key);
  if (added) {
    index.add(added.id, metric, tags);
    return added.id;
  }
  return (sql.seriesId.get(metric, type, key) as { id: number }).id;
}

/** A slice of new series as the compaction worker registers them (`registerSeries`): [metric, type, storage, tagsKey]. */
export function registration(series: readonly SeriesWrite[]): string {
  return JSON.stringify(series.map((s) => [s.metric, s.type, s.storage, tagsKey(s.tags)]));
}

/** Adds the series of a `registration` in one transaction of `db`'s: their ids, in order. */
export function registerSeries(sql: Statements, index: SqliteSeriesIndex, list: string): Float64Array {
  const entries = JSON.parse(list) as [string, string, string, string][];
  const ids = new Float64Array(entries.length);
  entries.forEach(([metric, type, storage, key], i) => {
    ids[i] = addSeries(sql, index, metric, type, storage, Object.fromEntries(JSON.parse(key) as [string, string][]), key);
  });
  return ids;
}

/** A series' points as the part of series `id` in a batch (sorted by time); undefined without points. */
function partOf(id: number, s: SeriesWrite, now: number): SeriesPart | undefined {
  const { timestamps, values } = ascending(s.timestamps, s.values);
  if (timestamps.length === 0) return undefined;
  return { seriesId: id, storage: s.storage, timestamps, values, expires: s.ttl > 0 ? now + s.ttl * 1000 : 0 };
}

/** Points sorted by time (a request's timestamps are unique within a series but may come in any order). */
function ascending(timestamps: readonly number[], values: readonly StoredValue[]): { timestamps: readonly number[]; values: readonly StoredValue[] } {
  let ordered = true;
  for (let i = 1; i < timestamps.length && ordered; i++) ordered = (timestamps[i] as number) > (timestamps[i - 1] as number);
  if (ordered) return { timestamps, values };
  const order = timestamps.map((_, i) => i).sort((a, b) => (timestamps[a] as number) - (timestamps[b] as number));
  return { timestamps: order.map((i) => timestamps[i] as number), values: order.map((i) => values[i] as StoredValue) };
}
