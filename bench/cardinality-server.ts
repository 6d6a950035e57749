// The server of bench/cardinality.ts: the example app (landing page included) on a store, plus a tenant-bound
// mount at /t (tenant from X-Tenant); it reports the event loop's worst delay since the last ask over IPC.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { kairosdb, MemoryStore, type Store } from '../src/index.js';
import { silentLogger } from '../src/logger.js';
import { createApp } from '../example-app/app.js';

const [kind, path] = process.argv.slice(2) as [string, string | undefined];
let store: Store;
if (kind === 'sqlite') {
  const { SqliteStore } = await import('../src/sqlite.js');
  const sqlite = new SqliteStore({ path: path as string, synchronous: 'NORMAL' });
  await sqlite.init();
  store = sqlite;
} else if (kind === 'cassandra') {
  const { CassandraStore } = await import('../src/cassandra.js');
  const contactPoints = (process.env.CASSANDRA_CONTACT_POINTS ?? '127.0.0.1').split(',');
  const cassandra = new CassandraStore({ contactPoints, localDataCenter: 'datacenter1', keyspace: `cardinality_${Date.now()}`, replication: { class: 'SimpleStrategy', replication_factor: 1 } });
  await cassandra.init();
  store = cassandra;
} else {
  store = new MemoryStore();
}
const app = createApp(store, kind, silentLogger);
app.middleware.unshift(kairosdb({ store, prefix: '/t', tenant: (ctx) => ctx.get('X-Tenant') || undefined }));
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
const server = app.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.once('SIGTERM', () => process.exit(0));
/** Stretches over 50 ms the event loop was held (a 5 ms timer that came late), since the last ask. */
let stalls = 0;
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  if (now - last > 55) {
    stalls++;
    if (process.env.BENCH_STALLS) console.error(`stall ${(now - last - 5).toFixed(0)} ms ending at ${now.toFixed(0)}`);
  }
  last = now;
}, 5).unref();
process.on('message', (m: string) => {
  if (m === 'delay') {
    process.send?.({ delayMs: delay.max / 1e6, rssMb: process.memoryUsage().rss / 2 ** 20, stalls });
    delay.reset();
    stalls = 0;
  }
});
