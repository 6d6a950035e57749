import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import driver from 'cassandra-driver';
import Koa from 'koa';
import request from 'supertest';
import { CassandraStore, type CassandraStoreOptions } from '../../src/cassandra.js';
import { kairosdb } from '../../src/index.js';
import { readAll, series, storeConformanceSuite } from '../../src/store/conformance.js';

const contactPoints = process.env.CASSANDRA_CONTACT_POINTS;
const SKIP = 'CASSANDRA_CONTACT_POINTS is not set: set it (e.g. CASSANDRA_CONTACT_POINTS=127.0.0.1) to run these against a real Cassandra';

if (!contactPoints) {
  describe('Cassandra integration', () => {
    it('conformance suite and Cassandra checks against a real cluster', { skip: SKIP }, () => {});
  });
} else {
  const keyspace = `koa_kairosdb_test_${process.pid}_${Date.now() % 1_000_000}`;
  const clientOptions = {
    contactPoints: contactPoints.split(',').map((p) => p.trim()),
    localDataCenter: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
  };
  const admin = new driver.Client(clientOptions);
  const stores: CassandraStore[] = [];
  const open = async (options: Partial<CassandraStoreOptions> = {}) => {
    const store = new CassandraStore({ client: admin as never, keyspace, createSchema: true, replication: { class: 'SimpleStrategy', replication_factor: 1 }, ...options });
    stores.push(store);
    await store.init();
    return store;
  };

  before(async () => {
    await admin.connect();
  });
  after(async () => {
    await Promise.allSettled(stores.map((s) => s.close()));
    await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    await admin.shutdown();
  });

  storeConformanceSuite(`CassandraStore (${keyspace})`, { create: () => open() });

  describe('CassandraStore against a real cluster', () => {
    const DAY = 86_400_000;

    it('reads across bucket boundaries in time order', async () => {
      const store = await open();
      const b = 20_000 * DAY;
      const points: [number, number][] = [[b - 1, 1], [b, 2], [b + DAY - 1, 3], [b + DAY, 4]];
      await store.write([series('it.buckets', { h: 'a' }, [...points].reverse())]);
      assert.deepEqual((await readAll(store, { metric: 'it.buckets' }))[0]?.points, points);
      assert.deepEqual((await readAll(store, { metric: 'it.buckets', start: b, end: b + DAY - 1 }))[0]?.points, [[b, 2], [b + DAY - 1, 3]]);
    });

    it('re-initialises an existing schema as a no-op, data intact', async () => {
      const first = await open();
      await first.write([series('it.reinit', { h: 'a' }, [[1, 1]])]);
      const second = await open();
      assert.deepEqual((await readAll(second, { metric: 'it.reinit' }))[0]?.points, [[1, 1]]);
    });

    it('refuses another bucket width on existing data', async () => {
      await open();
      await assert.rejects(open({ bucketWidthMs: 3_600_000 }), /uses buckets of 86400000 ms, not 3600000 ms/);
    });

    it('expires points and index rows with a short TTL', async () => {
      const store = await open({ bucketWidthMs: 3_600_000, keyspace: `${keyspace}_h` });
      await store.write([series('it.ttl', { h: 'a' }, [[Date.now(), 1]], { ttl: 1 })]);
      assert.equal((await readAll(store, { metric: 'it.ttl' })).length, 1);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      assert.deepEqual(await readAll(store, { metric: 'it.ttl' }), []);
      await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}_h`);
    });

    it('over HTTP: duplicates in one request → the last wins; a 10,000-point request is stored whole', async () => {
      const store = await open();
      const app = new Koa();
      app.use(kairosdb({ store }));
      const dup = await request(app.callback())
        .post('/api/v1/datapoints')
        .send([{ name: 'it.dup', tags: { h: 'a' }, datapoints: [[1, 1], [1, 3], [1, 2]] }]);
      assert.equal(dup.status, 204);
      assert.deepEqual((await readAll(store, { metric: 'it.dup' }))[0]?.points, [[1, 2]]);
      const datapoints = Array.from({ length: 10_000 }, (_, i) => [1_700_000_000_000 + i * 1000, i]);
      const big = await request(app.callback()).post('/api/v1/datapoints').send([{ name: 'it.big', tags: { h: 'a' }, datapoints }]);
      assert.equal(big.status, 204);
      assert.deepEqual((await readAll(store, { metric: 'it.big' }))[0]?.points, datapoints);
    });
  });
}
