import { pino } from 'pino';
import { MemoryStore, type Store } from '../src/index.js';
import { createApp } from './app.js';

const env = process.env;
const port = Number(env.PORT ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`koa-kairosdb example: PORT must be a port number (0–65535), got '${env.PORT}'\n`);
  process.exit(1);
}
const storeName = env.STORE ?? 'sqlite';
/** A TCP port from the environment, or undefined when unset. */
function portOf(name: string): number | undefined {
  const text = env[name];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`koa-kairosdb example: ${name} must be a port number (0–65535), got '${text}'\n`);
    process.exit(1);
  }
  return n;
}
const telnetPort = portOf('TELNET_PORT');
const graphitePort = portOf('GRAPHITE_PORT');
const statisticsIntervalMs = env.STATISTICS_INTERVAL_MS === undefined ? undefined : Number(env.STATISTICS_INTERVAL_MS);
const logger = pino({ level: env.LOG_LEVEL ?? 'info' });

async function openStore(): Promise<Store> {
  if (storeName === 'memory') return new MemoryStore();
  if (storeName === 'sqlite') {
    const { SqliteStore } = await import('../src/sqlite.js');
    return new SqliteStore({ path: env.SQLITE_PATH ?? './data/metrics.db' });
  }
  if (storeName === 'cassandra') {
    if (!env.CASSANDRA_CONTACT_POINTS) throw new Error('STORE=cassandra needs CASSANDRA_CONTACT_POINTS (e.g. 127.0.0.1)');
    const { CassandraStore } = await import('../src/cassandra.js');
    const keyspace = env.CASSANDRA_KEYSPACE ?? 'kairosdb';
    const replicationFactor = Number(env.CASSANDRA_REPLICATION_FACTOR ?? 1);
    const store = new CassandraStore({
      contactPoints: env.CASSANDRA_CONTACT_POINTS.split(',').map((p) => p.trim()),
      localDataCenter: env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
      keyspace,
      replication: { class: 'SimpleStrategy', replication_factor: replicationFactor },
      logger,
    });
    logger.info(`creating keyspace '${keyspace}' (replication factor ${replicationFactor}) and tables if missing`);
    await store.init();
    return store;
  }
  throw new Error(`STORE=${storeName} is not one of sqlite, memory, cassandra`);
}

async function main(): Promise<void> {
  const store = await openStore();
  const described =
    storeName === 'sqlite'
      ? `sqlite (${env.SQLITE_PATH ?? './data/metrics.db'})`
      : storeName === 'cassandra'
        ? `cassandra (${env.CASSANDRA_CONTACT_POINTS}, keyspace ${env.CASSANDRA_KEYSPACE ?? 'kairosdb'})`
        : storeName;
  const app = createApp(store, described, logger, statisticsIntervalMs);
  const lines: string[] = [];
  try {
    if (telnetPort !== undefined) lines.push(`telnet on 127.0.0.1:${((await app.kairosdb.listenTelnet({ port: telnetPort })).address() as { port: number }).port}`);
    if (graphitePort !== undefined) lines.push(`graphite on 127.0.0.1:${((await app.kairosdb.listenGraphite({ port: graphitePort })).address() as { port: number }).port}`);
  } catch (error) {
    process.stderr.write(`koa-kairosdb example: cannot listen: ${(error as Error).message}\n`);
    await store.close();
    process.exit(1);
  }
  const server = app.listen(port, () => {
    const address = server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    process.stdout.write(
      `koa-kairosdb example listening on http://localhost:${actual} — store: ${described} — routes: /api/v1 (datapoints, datapoints/query, datapoints/query/tags, datapoints/delete, metric/{name}, metricnames, version, health, metrics, ui, rollups, write (Influx v1 and Prometheus remote write), read, api/v2/write, api/put), GET /, GET /healthz${lines.map((l) => ` — ${l}`).join('')}\n`,
    );
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    const reason = error.code === 'EADDRINUSE' ? `port ${port} is in use; set PORT to a free one (PORT=8081 npm start)` : error.message;
    process.stderr.write(`koa-kairosdb example: cannot listen: ${reason}\n`);
    void store.close().finally(() => process.exit(1));
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: finishing requests in flight, then closing the store`);
    server.close(async () => {
      await app.kairosdb.close({ graceMs: 0 });
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    // A client that stopped reading its answer must not hold the shutdown: its connection is cut after 5 s.
    setTimeout(() => server.closeAllConnections(), 5000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`koa-kairosdb example: cannot start: ${(error as Error).message}\n`);
  process.exit(1);
});
