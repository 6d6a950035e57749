import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import driver from 'cassandra-driver';
import { CassandraStore } from '../../src/cassandra.js';
import { twoInstancesRollUp } from '../rollups-instances.js';

const contactPoints = process.env.CASSANDRA_CONTACT_POINTS;
const SKIP = 'CASSANDRA_CONTACT_POINTS is not set: run `npm run cassandra:start`, then `CASSANDRA_CONTACT_POINTS=127.0.0.1 npm run test:cassandra`';

describe('roll-ups across processes on Cassandra', () => {
  it('two app instances on one keyspace: 1-second-scale sums over 1,000 series, every period exactly once across a SIGKILL of the lease holder', {
    skip: contactPoints || process.env.CASSANDRA_REQUIRED === '1' ? false : SKIP,
    timeout: 300_000,
  }, async (t) => {
    assert.ok(contactPoints, `CASSANDRA_REQUIRED=1 but ${SKIP}`);
    const hosts = contactPoints.split(',').map((p) => p.trim());
    const localDataCenter = process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1';
    const keyspace = `koa_kairosdb_rollups_${process.pid}_${Date.now() % 1_000_000}`;
    const store = new CassandraStore({ contactPoints: hosts, localDataCenter, keyspace, createSchema: true, replication: { class: 'SimpleStrategy', replication_factor: 1 } });
    await store.init();
    try {
      const leaseMs = 5000;
      const intervalS = 10;
      const { periods, takeoverMs } = await twoInstancesRollUp({ store, args: ['cassandra', hosts.join(','), keyspace], series: 1000, samplingS: 5, intervalS, pollMs: 500, leaseMs });
      t.diagnostic(`${periods} periods rolled up, taken over ${takeoverMs} ms after the kill`);
      assert.ok(periods >= 6, `${periods} periods`);
      assert.ok(takeoverMs <= leaseMs + intervalS * 1000 + 5000, `taken over ${takeoverMs} ms after the kill`);
    } finally {
      const admin = new driver.Client({ contactPoints: hosts, localDataCenter });
      await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
      await admin.shutdown();
    }
  });
});
