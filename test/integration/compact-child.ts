// A second app instance for test/integration/chunks.test.ts: opens the keyspace and compacts every closed bucket,
// saying "started" first (the test may kill it mid-run).
import { CassandraStore } from '../../src/cassandra.js';

const [hosts = '127.0.0.1', keyspace = ''] = process.argv.slice(2);
const store = new CassandraStore({ contactPoints: hosts.split(','), localDataCenter: 'datacenter1', keyspace, createSchema: false, compactIntervalMs: 0 });
await store.init();
process.stdout.write('started\n');
const done = await store.compact();
process.stdout.write(`${JSON.stringify(done)}\n`);
await store.close();
