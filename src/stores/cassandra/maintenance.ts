/**
 * The Cassandra store's work beside requests: sweeps of closed buckets (compaction), the move of a layout-2
 * keyspace's points into chunks (`migrate`), and the series index of a layout-1 keyspace. Each walks the index
 * tables (names → buckets → series) and works a partition at a time through the store's statements.
 */
import type { Compactor } from './compactor.js';
import { bucketOf, storageOf } from './keys.js';
import { Limiter } from './limiter.js';
import type { ResolvedCassandraOptions, Row } from './options.js';
import { legacyPoints, writePieces, type PartitionIo, type PartitionKey, type PointColumns } from './partition.js';
import { NAMES_PART } from './queries.js';

/** What this work needs of the store beside a partition's statements. */
export interface StoreAccess extends PartitionIo {
  readonly options: ResolvedCassandraOptions;
  readonly compactor: Compactor;
  /** This store's writer id, as the holder of a lease. */
  readonly writer: Buffer;
  rowPages(query: string, params: unknown[]): AsyncGenerator<Row[]>;
  metricNames(): Promise<string[]>;
  closed(): boolean;
}

/** The write order of points moved from layout 2: before every chunk written since. */
const MIGRATED_SEQ = 0;
/** How long after a bucket ends the sweep waits for late writes before compacting it. */
const SWEEP_SETTLE_MS = 5 * 60_000;
/** How long an instance holds the lease of a bucket's sweep (another takes over after it, if it died). */
const SWEEP_LEASE_S = 600;

/** Compacts every partition of a metric's bucket, a few at once, a turn for the event loop between them. */
export async function sweepBucket(access: StoreAccess, metric: string, bucket: number): Promise<{ partitions: number; merged: number }> {
  const totals = { partitions: 0, merged: 0 };
  const limiter = new Limiter(Math.max(1, access.options.compactionConcurrency));
  for await (const rows of access.rowPages(access.q.selectSeries, [metric, bucket])) {
    await Promise.all(
      rows.map((row) =>
        limiter.run(async () => {
          if (access.closed()) return;
          const json = JSON.parse(row['[json]'] as string) as { series_id: string; type: string };
          const key: PartitionKey = { metric, id: Buffer.from(json.series_id.slice(2), 'hex'), bucket, type: json.type, storage: storageOf(json.type) };
          const merged = await access.compactor.compactWhole(key);
          totals.partitions++;
          totals.merged += merged;
          await new Promise((resolve) => setImmediate(resolve));
        }),
      ),
    );
  }
  return totals;
}

/**
 * The background sweep: each metric's last closed bucket (ended over SWEEP_SETTLE_MS ago) that no instance swept
 * yet, under a lease (a lightweight transaction) so that one instance does it; marked swept for two bucket widths.
 */
export async function sweepRecent(access: StoreAccess): Promise<void> {
  const now = access.options.clock();
  const width = access.options.bucketWidthMs;
  const bucket = bucketOf(now - SWEEP_SETTLE_MS, width) - width;
  const ttl = Math.ceil((2 * width) / 1000);
  for (const metric of await access.metricNames()) {
    if (access.closed()) return;
    const done = `swept\u0000${metric}\u0000${bucket}`;
    if ((await access.all(access.q.selectLease, [done])).length > 0) continue;
    if ((await access.all(access.q.selectBuckets, [metric, bucket, bucket])).length === 0) continue;
    const lease = `sweeping\u0000${metric}\u0000${bucket}`;
    const taken = await access.all(access.q.takeLease, [lease, access.writer, SWEEP_LEASE_S]);
    if (taken[0]?.['[applied]'] !== true) continue;
    await sweepBucket(access, metric, bucket);
    await access.run(access.q.markDone, [done, access.writer, ttl]);
  }
}

/**
 * Moves the points of `data_points` (layout 1 or 2) into chunks, a partition (a series' bucket) at a time, each
 * partition's rows deleted once its chunks are written; then records that none remain (`legacy_points` 0).
 */
export async function migrateLegacy(access: StoreAccess, onProgress?: (moved: { partitions: number; points: number }) => void): Promise<{ partitions: number; points: number }> {
  const moved = { partitions: 0, points: 0 };
  const now = access.options.clock();
  for (const metric of await access.metricNames()) {
    for (const { bucket } of (await access.all(access.q.selectAllBuckets, [metric])) as { bucket: Date }[]) {
      const at = bucket.getTime();
      const types = new Map<string, { id: Buffer; types: string[] }>();
      for (const row of await access.all(access.q.selectSeriesTtl, [metric, bucket])) {
        const id = row.series_id as Buffer;
        const entry = types.get(id.toString('hex')) ?? { id, types: [] };
        entry.types.push(row.type as string);
        types.set(id.toString('hex'), entry);
      }
      for (const { id, types: kinds } of types.values()) {
        for (const type of kinds) {
          const key: PartitionKey = { metric, id, bucket: at, type, storage: storageOf(type) };
          const points = await legacyPoints(access, key, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, now);
          if (!points) continue;
          await writePieces(access, key, MIGRATED_SEQ, points as PointColumns, { now, bucketWidthMs: access.options.bucketWidthMs });
          moved.points += points.timestamps.length;
        }
        await access.run(access.q.deletePartition, [metric, id, at]);
        moved.partitions++;
        onProgress?.(moved);
      }
    }
  }
  await access.run(access.q.setMeta, ['legacy_points', '0']);
  access.options.logger.info({ keyspace: access.options.keyspace, ...moved }, 'koa-kairosdb: layout-2 points moved into chunks');
  return moved;
}

/**
 * Fills the series index of a keyspace written in layout 1 (every series row of every bucket of every metric gets
 * its postings, with the row's TTL), through `run` (the store is not open yet). Idempotent: instances doing it at
 * once write the same rows.
 */
export async function indexLayout1(access: StoreAccess, run: (query: string, params: unknown[]) => Promise<unknown>): Promise<void> {
  const { logger } = access.options;
  logger.info({ keyspace: access.options.keyspace }, 'koa-kairosdb: building the series index of a layout-1 keyspace');
  let series = 0;
  // Every page of each listing (a statement answers its first page only: 5,000 rows).
  for (const { metric } of (await access.all(access.q.selectNames, [NAMES_PART, ''])) as { metric: string }[]) {
    for (const { bucket } of (await access.all(access.q.selectAllBuckets, [metric])) as { bucket: Date }[]) {
      for await (const rows of access.rowPages(access.q.selectSeriesTtl, [metric, bucket])) {
        for (const row of rows) {
          const tags = row.tags as Record<string, string>;
          const ttl = Number(row.ttl ?? 0);
          await Promise.all(Object.keys(tags).flatMap((name) => [run(access.q.insertPosting, [metric, bucket, name, tags[name], row.series_id, row.type, tags, ttl]), run(access.q.insertTagMetric, [name, tags[name], metric, ttl])]));
          series++;
        }
      }
    }
  }
  logger.info({ keyspace: access.options.keyspace, series }, 'koa-kairosdb: series index built');
}
