// The middleware under test: Koa + kairosdb() on a store named by argv[2] (discard, memory, sqlite, sqlite-normal, cassandra;
// BENCH_COMPACTION sets the Cassandra store's compactionConcurrency, 0 to measure without its background merges).
import Koa from 'koa';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kairosdb, MemoryStore, type Store } from '../src/index.js';
import { SqliteStore } from '../src/sqlite.js';

const kind = process.argv[2] ?? 'discard';
const discard: Store = Object.assign(new MemoryStore(), { write: async () => {} });
async function cassandra(): Promise<Store> {
  const { CassandraStore } = await import('../src/cassandra.js');
  const store = new CassandraStore({
    contactPoints: (process.env.CASSANDRA_CONTACT_POINTS ?? '').split(','),
    localDataCenter: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
    keyspace: process.env.BENCH_KEYSPACE ?? 'koa_kairosdb_bench',
    createSchema: true, compactionConcurrency: Number(process.env.BENCH_COMPACTION ?? 2),
    replication: { class: 'SimpleStrategy', replication_factor: Number(process.env.BENCH_RF ?? 1) },
  });
  await store.init();
  return store;
}

const sqlitePath = join(mkdtempSync(join(tmpdir(), 'bench-')), 'bench.db');
const store: Store =
  kind === 'memory'
    ? new MemoryStore()
    : kind === 'sqlite' || kind === 'sqlite-normal'
      ? new SqliteStore({ path: sqlitePath, synchronous: kind === 'sqlite' ? 'FULL' : 'NORMAL' })
      : kind === 'cassandra'
        ? await cassandra()
        : discard;
const heapAtStart = heapBytes();

function heapBytes(): number {
  globalThis.gc?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Bytes per stored point: of the database file after compaction (SQLite), of heap and buffers (memory). */
async function footprint(): Promise<{ points: number; bytesPerPoint: number } | undefined> {
  const points = (await store.stats?.())?.points ?? 0;
  if (points === 0) return undefined;
  if (store instanceof SqliteStore) {
    await (store as { compact?: () => Promise<void> }).compact?.();
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(sqlitePath, { readonly: true });
    const pragma = (name: string) => db.pragma(name, { simple: true }) as number;
    const bytes = (pragma('page_count') - pragma('freelist_count')) * pragma('page_size');
    db.close();
    return { points, bytesPerPoint: bytes / points };
  }
  if (kind === 'memory') return { points, bytesPerPoint: (heapBytes() - heapAtStart) / points };
  return undefined;
}
process.on('message', async (m) => {
  if (m === 'footprint') process.send?.({ footprint: await footprint() });
  // Cassandra: the chunks of every closed bucket merged (the background sweep's work, done at once).
  if (m === 'compact') process.send?.({ compacted: await (store as { compact?: () => Promise<unknown> }).compact?.() });
});

const app = new Koa();
// Raised so bench/reads.ts can read a long series raw (the default answers at most 1,000,000 values).
app.use(kairosdb({ store, maxQueryOutputPoints: 5_000_000, routes: { influx: true, opentsdb: true, prometheus: true } }));
const server = app.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
process.on('SIGINT', () => process.exit(0));
