import type { SeriesWrite, Tags } from '../../store-api/contract.js';
import type { StoredValue } from '../../types/value-type.js';
import { chunkOf } from '../chunk/codec.js';
import { chunkColumns, type ChunkKey, type WriteOrder } from './chunks.js';
import type { PartitionKey } from './partition.js';
import { bucketOf, idOf, tagPairs } from './keys.js';
import { NAMES_PART, type Queries } from './queries.js';
import { chunkTtl, indexTtl, outlives, pointTtl, type TtlRules } from './ttl.js';

/** A statement with its bound values. */
export interface Statement {
  query: string;
  params: unknown[];
}

/** An index row to write; its size as the server counts it, about. */
export interface IndexWrite extends Statement {
  ttl: number;
  bytes: number;
  /**
   * The key of a row other series share (a metric's bucket and name, a tag's metrics), remembered on its own and
   * planned unless the cache knows it written with at least this TTL. A row of one series (its series row, its
   * postings) has none: it is covered by the key of the series' bucket.
   */
  shared?: string;
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

/** The index rows of one series' bucket: once all are written, the series' bucket is known indexed. */
export interface SeriesIndex {
  key: string;
  ttl: number;
  rows: IndexWrite[];
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
  const index: IndexWrite[] = [];
  const shared = new Map<string, IndexWrite>();
  const planned = new Map<string, SeriesIndex>();
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
    let tags: Buffer | undefined;
    for (const [bucket, { ttl }] of buckets) {
      const rowTtl = indexTtl(ttl, width, now, settings);
      // One lookup for the series' bucket: its rows are planned only when one of them may be missing.
      const seriesKey = `i\u0000${s.metric}\u0000${idHex}\u0000${s.type}\u0000${bucket}`;
      if (settings.indexed(seriesKey, rowTtl)) continue;
      const again = planned.get(seriesKey);
      if (again) {
        // The series twice in one request: its rows planned once, with the longer TTL.
        if (outlives(rowTtl, again.ttl)) for (const row of again.rows) setTtl(row, (again.ttl = rowTtl));
        continue;
      }
      tags ??= tagMap(s.tags);
      const rows: IndexWrite[] = [];
      // The estimate of the former string keys (metric, bucket, id, type: ~50 characters more, each counted twice).
      const bytes = ROW_OVERHEAD_BYTES + tags.length + 2 * (s.metric.length + s.type.length + 52);
      const own = (query: string, params: unknown[], extra = 0) => {
        const row = { query, params, ttl: rowTtl, bytes: bytes + extra };
        rows.push(row);
        index.push(row);
      };
      const common = (key: string, query: string, params: unknown[]) => {
        const known = shared.get(key);
        if (known) {
          if (outlives(rowTtl, known.ttl)) setTtl(known, rowTtl);
          rows.push(known);
          return;
        }
        const row = { query, params, ttl: rowTtl, bytes: ROW_OVERHEAD_BYTES + 2 * key.length, shared: key };
        shared.set(key, row);
        rows.push(row);
        index.push(row);
      };
      own(queries.insertSeries, [s.metric, bucket, id, s.type, tags, rowTtl]);
      for (const name of Object.keys(s.tags)) {
        const value = s.tags[name] as string;
        own(queries.insertPosting, [s.metric, bucket, name, value, id, s.type, tags, rowTtl], 2 * (name.length + value.length));
        common(`g\u0000${name}\u0000${value}\u0000${s.metric}`, queries.insertTagMetric, [name, value, s.metric, rowTtl]);
      }
      common(`b\u0000${s.metric}\u0000${bucket}`, queries.insertBucket, [s.metric, bucket, rowTtl]);
      common(`n\u0000${s.metric}`, queries.insertName, [NAMES_PART, s.metric, rowTtl]);
      planned.set(seriesKey, { key: seriesKey, ttl: rowTtl, rows });
    }
  }
  return { chunks, series: [...planned.values()], index, expired };
}

/** A planned row's TTL, its last bound value too. */
function setTtl(row: IndexWrite, ttl: number): void {
  row.ttl = ttl;
  row.params[row.params.length - 1] = ttl;
}

/**
 * A tag set as a CQL `map<text, text>` value, encoded once for the series' rows (the driver sends a Buffer as it is):
 * the driver's own encoding of a map, per row, was a large part of the garbage a new series made. Protocol v3 and
 * later: an int32 count, then each key and value as an int32 length and UTF-8 bytes.
 */
export function tagMap(tags: Tags): Buffer {
  return tagPairs(tags, Object.keys(tags), true);
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
