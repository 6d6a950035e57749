import type { SeriesWrite, Tags } from '../../store-api/contract.js';
import type { StoredValue } from '../../types/value-type.js';
import { chunkOf } from '../chunk/codec.js';
import { chunkColumns, type ChunkKey, type WriteOrder } from './chunks.js';
import type { PartitionKey } from './partition.js';
import { bucketOf, idOf } from './keys.js';
import { NAMES_PART, type Queries } from './queries.js';
import { chunkTtl, indexTtl, outlives, pointTtl, type TtlRules } from './ttl.js';

/** A statement with its bound values. */
export interface Statement {
  query: string;
  params: unknown[];
}

/** An index row to write unless the cache knows it was written with at least this TTL; its size as the server counts it, about. */
export interface IndexWrite extends Statement {
  key: string;
  ttl: number;
  bytes: number;
  /**
   * Whether other series share the row (a metric's bucket and name, a tag's metrics): remembered on its own. A row of
   * one series (its series row, its postings) is covered by the key of the series' bucket.
   */
  shared: boolean;
}

/** A chunk row to write, with its partition and key (for compaction to count) and its size as the server counts it. */
export interface ChunkWrite extends Statement {
  partition: PartitionKey;
  /** The partition as a string: metric, series id, type and bucket. */
  name: string;
  /** Points in the chunk. */
  points: number;
  key: ChunkKey;
  bytes: number;
}

/** The index rows of one series' bucket (their keys): once all are written, the series' bucket is known indexed. */
export interface SeriesIndex {
  key: string;
  ttl: number;
  rows: string[];
}

/** What one request turns into: a chunk row per series and bucket, and index rows. */
export interface WritePlan {
  chunks: ChunkWrite[];
  /** The series' buckets whose index rows are planned, each with the keys of its rows (in `index`). */
  series: SeriesIndex[];
  index: IndexWrite[];
  /** Points dropped because aligned TTL says they had already expired. */
  expired: number;
}

/** Settings of the planner. */
export interface PlanSettings extends TtlRules {
  queries: Queries;
  bucketWidthMs: number;
  now: number;
  order: WriteOrder;
  /** Whether every index row of a series' bucket (its key) is known written with at least this TTL: none is planned. */
  indexed(key: string, ttl: number): boolean;
}

/** What a chunk row adds to a mutation beside its data, its metric and type: the other key and cell bytes (measured). */
const ROW_OVERHEAD_BYTES = 180;

/** A bucket's points of one series, as the planner gathers them. */
interface BucketPoints {
  timestamps: number[];
  values: StoredValue[];
  expires: number[];
  ttl: number;
}

/**
 * Plans the statements of a request: one chunk row per (series, bucket), each with a key later than the one before
 * (a series given twice in a request: its second entry wins, as its later rows did); index rows deduplicated.
 */
export function planWrite(series: readonly SeriesWrite[], settings: PlanSettings): WritePlan {
  const { queries, bucketWidthMs: width, now } = settings;
  const chunks: ChunkWrite[] = [];
  const index = new Map<string, IndexWrite>();
  const indexed: SeriesIndex[] = [];
  let rows: string[] = [];
  /** The size of the series' tag map, counted in each of its index rows (an over-estimate for those without it). */
  let tagBytes = 0;
  const addIndex = (key: string, ttl: number, query: string, params: unknown[], shared = true) => {
    rows.push(key);
    const known = index.get(key);
    if (!known || outlives(ttl, known.ttl)) index.set(key, { key, ttl, query, params: [...params, ttl], bytes: ROW_OVERHEAD_BYTES + 2 * key.length + tagBytes, shared });
  };
  let expired = 0;
  for (const s of series) {
    const { id, hex: idHex } = idOf(s.tags);
    const buckets = new Map<number, BucketPoints>();
    for (let i = 0; i < s.timestamps.length; i++) {
      const ts = s.timestamps[i] as number;
      const ttl = pointTtl(s.ttl, ts, now, settings);
      if (ttl === undefined) {
        expired++;
        continue;
      }
      const bucket = bucketOf(ts, width);
      let points = buckets.get(bucket);
      if (!points) buckets.set(bucket, (points = { timestamps: [], values: [], expires: [], ttl }));
      points.timestamps.push(ts);
      points.values.push(s.values[i] as StoredValue);
      points.expires.push(ttl === 0 ? 0 : now + ttl * 1000);
      if (outlives(ttl, points.ttl)) points.ttl = ttl;
    }
    for (const [bucket, points] of buckets) {
      const chunk = chunkOf(s.storage, points.timestamps, points.values, points.expires);
      const key = settings.order.next(now);
      const partition = { metric: s.metric, id, bucket, type: s.type, storage: s.storage };
      const name = `${s.metric}\u0000${idHex}\u0000${s.type}\u0000${bucket}`;
      const columns = chunkColumns(chunk);
      const bytes = ROW_OVERHEAD_BYTES + 2 * s.metric.length + s.type.length + columns[3].length;
      chunks.push({ query: queries.insertChunk, params: [s.metric, id, bucket, s.type, key.seq, key.writer, ...columns, chunkTtl(points.ttl, width, now, settings)], partition, name, key, bytes, points: columns[2] });
    }
    for (const [bucket, { ttl }] of buckets) {
      const rowTtl = indexTtl(ttl, width, now, settings);
      // One lookup for the series' bucket: its rows are planned only when one of them may be missing.
      const seriesKey = `i\u0000${s.metric}\u0000${idHex}\u0000${s.type}\u0000${bucket}`;
      if (settings.indexed(seriesKey, rowTtl)) continue;
      rows = [];
      indexed.push({ key: seriesKey, ttl: rowTtl, rows });
      const tags = driverMap(s.tags);
      tagBytes = 0;
      for (const name of Object.keys(s.tags)) tagBytes += name.length + (s.tags[name] as string).length + 8;
      addIndex(`s\u0000${s.metric}\u0000${bucket}\u0000${idHex}\u0000${s.type}`, rowTtl, queries.insertSeries, [s.metric, bucket, id, s.type, tags], false);
      for (const name of Object.keys(s.tags)) {
        const value = s.tags[name] as string;
        addIndex(`t\u0000${s.metric}\u0000${bucket}\u0000${name}\u0000${value}\u0000${idHex}\u0000${s.type}`, rowTtl, queries.insertPosting, [s.metric, bucket, name, value, id, s.type, tags], false);
        addIndex(`g\u0000${name}\u0000${value}\u0000${s.metric}`, rowTtl, queries.insertTagMetric, [name, value, s.metric]);
      }
      addIndex(`b\u0000${s.metric}\u0000${bucket}`, rowTtl, queries.insertBucket, [s.metric, bucket]);
      addIndex(`n\u0000${s.metric}`, rowTtl, queries.insertName, [NAMES_PART, s.metric]);
    }
  }
  return { chunks, series: indexed, index: [...index.values()], expired };
}

/** Tags as a plain object the driver can encode; `__proto__` stays an own key. */
function driverMap(tags: Tags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(tags)) {
    Object.defineProperty(out, name, { value: tags[name], enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Rows (chunks, index rows) in UNLOGGED batches of at most `size` rows and BATCH_BYTES (Cassandra logs a warning for
 * every batch over 5 KiB, `batch_size_warn_threshold`); a larger row goes alone. One batch per round trip: 1,000
 * series a request as 1,000 statements held the Node side at ~80,000 points/s, as batches of 100 at ~130,000.
 */
export function* batches<T extends Statement & { bytes: number }>(rows: readonly T[], size: number): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    const length = row.bytes;
    if (batch.length > 0 && (batch.length >= size || bytes + length > BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(row);
    bytes += length;
  }
  if (batch.length > 0) yield batch;
}

/** Bytes in one batch of chunk rows at most, as Cassandra counts them (its default warning threshold is 5 KiB). */
const BATCH_BYTES = 4608;

/** Points, and series, a write plans and sends before it gives the event loop a turn (~20 ms of new series). */
const SLICE_POINTS = 2000;
const SLICE_SERIES = 250;

/** A write's series in slices of about SLICE_POINTS points or SLICE_SERIES series (a series is never split). */
export function* slices(series: readonly SeriesWrite[]): Generator<readonly SeriesWrite[]> {
  let from = 0;
  let points = 0;
  for (let i = 0; i < series.length; i++) {
    points += (series[i] as SeriesWrite).timestamps.length;
    if (points >= SLICE_POINTS || i + 1 - from >= SLICE_SERIES) {
      yield series.slice(from, i + 1);
      from = i + 1;
      points = 0;
    }
  }
  if (from < series.length) yield series.slice(from);
}
