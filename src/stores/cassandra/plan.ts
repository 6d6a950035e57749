import { toDriverValue } from '../../store-api/bytes.js';
import type { SeriesWrite, Tags } from '../../store-api/contract.js';
import type { StoredValue } from '../../types/value-type.js';
import { bucketOf, seriesId } from './keys.js';
import { NAMES_PART, type Queries } from './queries.js';
import { indexTtl, outlives, pointTtl, type TtlRules } from './ttl.js';

/** A statement with its bound values. */
export interface Statement {
  query: string;
  params: unknown[];
}

/** An index row to write unless the cache knows it was written with at least this TTL. */
export interface IndexWrite extends Statement {
  key: string;
  ttl: number;
}

/** What one request turns into: data statements grouped by partition, and index rows. */
export interface WritePlan {
  partitions: Statement[][];
  index: IndexWrite[];
  /** Points dropped because aligned TTL says they had already expired. */
  expired: number;
}

/** Settings of the planner. */
export interface PlanSettings extends TtlRules {
  queries: Queries;
  bucketWidthMs: number;
  now: number;
}

/** Plans the statements of a request: one group per partition (metric, series, bucket); index rows deduplicated. */
export function planWrite(series: readonly SeriesWrite[], settings: PlanSettings): WritePlan {
  const { queries, bucketWidthMs: width, now } = settings;
  const partitions = new Map<string, Statement[]>();
  const index = new Map<string, IndexWrite>();
  const addIndex = (key: string, ttl: number, query: string, params: unknown[]) => {
    const known = index.get(key);
    if (!known || outlives(ttl, known.ttl)) index.set(key, { key, ttl, query, params: [...params, ttl] });
  };
  let expired = 0;
  for (const s of series) {
    const id = seriesId(s.tags);
    const idHex = id.toString('hex');
    const insert = queries.insertPoint[s.storage];
    const bucketTtl = new Map<number, number>();
    for (let i = 0; i < s.timestamps.length; i++) {
      const ts = s.timestamps[i] as number;
      const ttl = pointTtl(s.ttl, ts, now, settings);
      if (ttl === undefined) {
        expired++;
        continue;
      }
      const bucket = bucketOf(ts, width);
      const key = `${s.metric}\u0000${idHex}\u0000${bucket}`;
      let group = partitions.get(key);
      if (!group) partitions.set(key, (group = []));
      group.push({ query: insert, params: [s.metric, id, bucket, ts, s.type, toDriverValue(s.values[i] as StoredValue), ttl] });
      const known = bucketTtl.get(bucket);
      if (known === undefined || outlives(ttl, known)) bucketTtl.set(bucket, ttl);
    }
    for (const [bucket, ttl] of bucketTtl) {
      const rowTtl = indexTtl(ttl, width, now, settings);
      const tags = driverMap(s.tags);
      addIndex(`s\u0000${s.metric}\u0000${bucket}\u0000${idHex}\u0000${s.type}`, rowTtl, queries.insertSeries, [s.metric, bucket, id, s.type, tags]);
      for (const name of Object.keys(s.tags)) {
        const value = s.tags[name] as string;
        addIndex(`t\u0000${s.metric}\u0000${bucket}\u0000${name}\u0000${value}\u0000${idHex}\u0000${s.type}`, rowTtl, queries.insertPosting, [s.metric, bucket, name, value, id, s.type, tags]);
        addIndex(`g\u0000${name}\u0000${value}\u0000${s.metric}`, rowTtl, queries.insertTagMetric, [name, value, s.metric]);
      }
      addIndex(`b\u0000${s.metric}\u0000${bucket}`, rowTtl, queries.insertBucket, [s.metric, bucket]);
      addIndex(`n\u0000${s.metric}`, rowTtl, queries.insertName, [NAMES_PART, s.metric]);
    }
  }
  return { partitions: [...partitions.values()], index: [...index.values()], expired };
}

/** Splits a partition's statements into batches of at most `size`. */
export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Tags as a plain object the driver can encode; `__proto__` stays an own key. */
function driverMap(tags: Tags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(tags)) {
    Object.defineProperty(out, name, { value: tags[name], enumerable: true, writable: true, configurable: true });
  }
  return out;
}
