// One app instance of the roll-up process tests: mounts the middleware with roll-ups on the store named by its
// arguments (`sqlite <path>` or `cassandra <hosts> <keyspace>`), prints each period it rolls up as a JSON line, and
// closes (giving its lease up) on SIGTERM.
import { kairosdb, type Store } from '../src/index.js';

const [kind = '', where = '', keyspace = '', pollMs = '200', leaseMs = '3000'] = process.argv.slice(2);
let store: Store;
if (kind === 'sqlite') {
  const { SqliteStore } = await import('../src/sqlite.js');
  store = new SqliteStore({ path: where });
} else {
  const { CassandraStore } = await import('../src/cassandra.js');
  store = new CassandraStore({ contactPoints: where.split(','), localDataCenter: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1', keyspace });
}
const logger = {
  info: (fields: { start?: number; end?: number; points?: number }, message: string) => {
    if (message.includes('roll-up period done')) process.stdout.write(`${JSON.stringify({ start: fields.start, end: fields.end, points: fields.points })}\n`);
  },
  warn: (fields: unknown, message: string) => process.stderr.write(`warn ${message} ${JSON.stringify(fields)}\n`),
  error: (fields: { err?: unknown }, message: string) => process.stderr.write(`error ${message} ${String(fields.err ?? '')}\n`),
  debug() {},
};
const middleware = kairosdb({ store, logger, rollups: { pollMs: Number(pollMs), leaseMs: Number(leaseMs) } });
await middleware.ready();
process.stdout.write('{"ready":true}\n');
process.on('SIGTERM', () => void middleware.close().then(() => process.exit(0)));
setInterval(() => {}, 1 << 30);
