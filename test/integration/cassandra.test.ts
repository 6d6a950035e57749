import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import driver from 'cassandra-driver';
import Koa from 'koa';
import request from 'supertest';
import { CassandraStore, type CassandraStoreOptions } from '../../src/cassandra.js';
import { kairosdb } from '../../src/index.js';
import { readAll, series, storeConformanceSuite } from '../../src/store-api/conformance.js';
import { rollupsSuite } from '../rollups-suite.js';
import { saveAsSuite } from '../save-as-suite.js';

const contactPoints = process.env.CASSANDRA_CONTACT_POINTS;
const SKIP = 'CASSANDRA_CONTACT_POINTS is not set: run `npm run cassandra:start`, then `CASSANDRA_CONTACT_POINTS=127.0.0.1 npm run test:cassandra`';

if (!contactPoints && process.env.CASSANDRA_REQUIRED === '1') {
  describe('Cassandra integration', () => {
    it('needs a cluster (CASSANDRA_REQUIRED=1)', () => assert.fail(`CASSANDRA_REQUIRED=1 but ${SKIP}`));
  });
} else if (!contactPoints) {
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
  saveAsSuite(`CassandraStore (${keyspace})`, () => open());
  rollupsSuite(`CassandraStore (${keyspace})`, () => open());

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
      // Cassandra counts TTLs in whole seconds from the write's second, so a 1 s TTL can end ~0 s later: use 3 s.
      await store.write([series('it.ttl', { h: 'a' }, [[Date.now(), 1]], { ttl: 3 })]);
      assert.equal((await readAll(store, { metric: 'it.ttl' })).length, 1);
      await new Promise((resolve) => setTimeout(resolve, 4000));
      assert.deepEqual(await readAll(store, { metric: 'it.ttl' }), []);
      await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}_h`);
    });

    it('decodes tags through SELECT JSON exactly: __proto__, constructor, unicode, NUL, quotes and backslashes', async () => {
      const store = await open();
      const tags: Record<string, string> = Object.create(null);
      Object.assign(tags, { constructor: 'c', 'ключ 名前': '値 🚀', nul: 'a\u0000b', quote: 'say "hi" \\ \n' });
      tags['__proto__'] = 'p';
      await store.write([series('it.tags', tags, [[1, 1]])]);
      const found = await readAll(store, { metric: 'it.tags', tags: JSON.parse('{"__proto__":["p"],"nul":["a\\u0000b"]}') });
      assert.equal(found.length, 1);
      assert.deepEqual(Object.entries(found[0]?.tags ?? {}), Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : 1)));
      assert.equal(Object.getPrototypeOf({}), Object.prototype);
    });

    it('deletes a time range on the cluster and keeps the rest, in both read orders', async () => {
      const store = await open();
      const points: [number, number][] = Array.from({ length: 10 }, (_, i) => [1000 + i, i]);
      await store.write([series('it.range', { h: 'a' }, points), series('it.range', { h: 'b' }, points)]);
      await store.delete({ metric: 'it.range', start: 1003, end: 1006, tags: { h: ['a'] } });
      const [a, b] = await readAll(store, { metric: 'it.range' });
      assert.deepEqual(a?.points, points.filter(([ts]) => ts < 1003 || ts > 1006));
      assert.deepEqual(b?.points, points);
      const [desc] = await readAll(store, { metric: 'it.range', tags: { h: ['a'] }, order: 'desc' });
      assert.deepEqual(desc?.points, points.filter(([ts]) => ts < 1003 || ts > 1006).reverse());
    });

    it('pages with a fetch size of 3 through 1,000 points across buckets, ascending and descending', async () => {
      const store = await open({ pageSize: 3 });
      const points: [number, number][] = Array.from({ length: 1000 }, (_, i) => [20_000 * DAY - 500 * 60_000 + i * 60_000, i]);
      await store.write([series('it.paging', { h: 'a' }, points)]);
      assert.deepEqual((await readAll(store, { metric: 'it.paging' }))[0]?.points, points);
      assert.deepEqual((await readAll(store, { metric: 'it.paging', order: 'desc' }))[0]?.points, [...points].reverse());
      assert.deepEqual((await readAll(store, { metric: 'it.paging', start: points[10]![0], end: points[20]![0] }))[0]?.points, points.slice(10, 21));
    });

    it('creates chunks with TimeWindowCompactionStrategy, one window per bucket', async () => {
      await open();
      const row = (await admin.execute('SELECT compaction FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?', [keyspace, 'chunks'])).first();
      const compaction = row?.compaction as Record<string, string>;
      assert.match(compaction.class ?? '', /TimeWindowCompactionStrategy$/);
      assert.equal(compaction.compaction_window_unit, 'HOURS');
      assert.equal(compaction.compaction_window_size, '24');
    });

    it('a 2 s TTL row is there before and gone after it (observed on the node)', async () => {
      const store = await open();
      const now = Date.now();
      await store.write([series('it.ttl2', { h: 'a' }, [[now, 1]], { ttl: 2 }), series('it.ttl2', { h: 'keep' }, [[now, 2]])]);
      const ttl = (await admin.execute(`SELECT TTL(data) AS t FROM ${keyspace}.chunks WHERE metric = 'it.ttl2' ALLOW FILTERING`)).rows;
      // The cell lives a bucket and an hour past its point (the chunk grace); the point's own expiry is in the chunk.
      assert.ok(ttl.some((r) => r.t !== null && Number(r.t) <= 2 + 86_400 + 3600), JSON.stringify(ttl));
      assert.equal((await readAll(store, { metric: 'it.ttl2' })).length, 2);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const left = await readAll(store, { metric: 'it.ttl2' });
      assert.deepEqual(left.map((s) => s.tags.h), ['keep']);
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
