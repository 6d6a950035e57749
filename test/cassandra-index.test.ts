// Issue #28, Cassandra: the series index (postings per metric, bucket, tag name and value), its use by reads and
// deletes, and the online indexing of a layout-1 keyspace. The real node runs the conformance suite in CI.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CassandraStore } from '../src/cassandra.js';
import { readAll, series } from '../src/store-api/conformance.js';
import { queries } from '../src/stores/cassandra/queries.js';
import { resolveCassandraOptions } from '../src/stores/cassandra/options.js';
import { CqlFake } from './cql-fake.js';

const NOW = 1_700_000_000_000;
const q = queries(resolveCassandraOptions({ keyspace: 'kairosdb' }));

/** A fake cluster that counts the statements it runs, by text. */
function counted() {
  const fake = new CqlFake(NOW);
  const runs = new Map<string, number>();
  const execute = fake.execute.bind(fake);
  fake.execute = (query, params, options) => {
    runs.set(query, (runs.get(query) ?? 0) + 1);
    return execute(query, params, options);
  };
  return { fake, runs, reset: () => runs.clear() };
}

describe('the Cassandra series index (#28)', () => {
  it('a read with a tag filter takes the postings of its tag, not the series of the whole bucket', async () => {
    const { fake, runs, reset } = counted();
    const store = new CassandraStore({ client: fake, createSchema: true, clock: () => fake.now });
    await store.write(Array.from({ length: 500 }, (_, i) => series('m', { id: String(i), host: `h${i % 5}` }, [[NOW - 1000, i]])));
    reset();
    const got = await readAll(store, { metric: 'm', tags: { id: ['7'], host: ['h2', 'h3'] } });
    assert.deepEqual(got.map((s) => s.points), [[[NOW - 1000, 7]]]);
    assert.equal(runs.get(q.selectSeries) ?? 0, 0);
    assert.equal(runs.get(q.selectPostings), 1, 'one posting (id=7) per bucket');
    reset();
    assert.equal((await readAll(store, { metric: 'm', tags: { host: ['h2'] } })).length, 100);
    assert.equal((await readAll(store, { metric: 'm' })).length, 500);
    assert.equal(runs.get(q.selectSeries), 1, 'without a filter, the bucket of series');
  });

  it('counts a selection from the index rows of the buckets in range: maxQuerySeries refuses before any point is read', async () => {
    const { fake, runs, reset } = counted();
    const store = new CassandraStore({ client: fake, createSchema: true, clock: () => fake.now });
    await store.write(Array.from({ length: 30 }, (_, i) => series('m', { id: String(i), host: `h${i % 3}` }, [[NOW - 1000, i]])));
    assert.equal(await store.countSeries({ metric: 'm' }, 100), 30);
    assert.equal(await store.countSeries({ metric: 'm', tags: { host: ['h1'] } }, 100), 10);
    assert.equal(await store.countSeries({ metric: 'm', tags: { host: ['h1'] } }, 4), 4);
    assert.equal(await store.countSeries({ metric: 'm', start: NOW + 10 * 86_400_000 }, 100), 0, 'no bucket in range');
    const { mount } = await import('./helpers.js');
    const Koa = (await import('koa')).default;
    const { app } = mount(Koa, { store, maxQuerySeries: 20, clock: () => NOW });
    const request = (await import('supertest')).default;
    reset();
    const res = await request(app.callback()).post('/api/v1/datapoints/query').send({ start_absolute: 0, metrics: [{ name: 'm' }] });
    assert.equal(res.status, 400);
    assert.match(res.body.errors[0], /more than 20 series of one metric \(maxQuerySeries\)/);
    assert.equal(runs.get(q.selectChunks) ?? 0, 0);
  });

  it('a delete drops the postings of the series rows it removes', async () => {
    const fake = new CqlFake(NOW);
    const store = new CassandraStore({ client: fake, createSchema: true, clock: () => fake.now });
    await store.write([series('m', { id: '1' }, [[NOW - 1000, 1]]), series('m', { id: '2' }, [[NOW - 1000, 2]])]);
    await store.delete({ metric: 'm', tags: { id: ['1'] } });
    const postings = await fake.execute(q.selectPostings, ['m', await lastBucket(fake), 'id', '1']);
    assert.deepEqual(postings.rows, []);
    assert.equal((await readAll(store, { metric: 'm', tags: { id: ['2'] } })).length, 1);
  });

  it('indexes a layout-1 keyspace online at init (createSchema), and refuses one without createSchema', async () => {
    const fake = new CqlFake(NOW);
    const first = new CassandraStore({ client: fake, createSchema: true, clock: () => fake.now });
    await first.write([series('m', { id: '1', host: 'a' }, [[NOW - 1000, 1]], { ttl: 3600 }), series('m', { id: '2', host: 'a' }, [[NOW - 2 * 86_400_000, 2]])]);
    fake.asLayout1();
    assert.deepEqual(await readAll(first, { metric: 'm', tags: { id: ['1'] } }), [], 'without postings a tag read finds nothing: the layout must be checked');
    await assert.rejects(new CassandraStore({ client: fake, createSchema: false, clock: () => fake.now }).init(), /has schema layout 1; layout 3 keeps points in compressed chunks and adds a series index: start once with createSchema: true/);
    const second = new CassandraStore({ client: fake, createSchema: true, clock: () => fake.now });
    await second.init();
    const ids = async (tags: Record<string, string[]>) => (await readAll(second, { metric: 'm', start: 0, tags })).map((s) => s.tags.id);
    assert.deepEqual(await ids({ id: ['1'] }), ['1']);
    assert.deepEqual(await ids({ host: ['a'] }), ['1', '2']);
    assert.deepEqual(await second.metricNamesWithTag('', 'host', 'a'), ['m']);
    const meta = await fake.execute(q.selectMeta, []);
    assert.equal(meta.rows.find((r) => r.name === 'layout_version')?.value, '3');
    fake.now += 3601 * 1000;
    assert.deepEqual(await ids({ host: ['a'] }), ['2'], 'the postings keep the TTL of the series rows they index');
  });

  it('lists the metrics with a tag a slice of 512 at a time, keeping only those that still have a bucket', async () => {
    const fake = new CqlFake(NOW);
    let asked = 0;
    let answered = 0;
    let mostAhead = 0;
    const client = {
      batch: (statements: { query: string; params: unknown[] }[]) => fake.batch(statements),
      async execute(query: string, params: unknown[] = [], options: { consistency?: number; fetchSize?: number; pageState?: string } = {}) {
        if (query !== q.anyBucket) return fake.execute(query, params, options);
        mostAhead = Math.max(mostAhead, ++asked - answered);
        await new Promise((resolve) => setImmediate(resolve));
        answered++;
        return fake.execute(query, params, options);
      },
    };
    const store = new CassandraStore({ client, createSchema: true, clock: () => fake.now, concurrency: 2048 });
    const names = Array.from({ length: 1500 }, (_, i) => `m${String(i).padStart(4, '0')}`);
    await store.write(names.map((name) => series(name, { tenant: 'a' }, [[NOW - 1000, 1]])));
    await store.delete({ metric: 'm0700' });
    const listed = await store.metricNamesWithTag('', 'tenant', 'a');
    assert.deepEqual(listed, names.filter((name) => name !== 'm0700'));
    assert.ok(mostAhead <= 512, `${mostAhead} liveness queries asked before the earlier ones were answered`);
  });

  it('indexes every series of a layout-1 bucket, past the first page of a statement (5,000 rows)', async () => {
    const fake = new CqlFake(NOW);
    const first = new CassandraStore({ client: fake, createSchema: true, clock: () => fake.now });
    await first.write(Array.from({ length: 5003 }, (_, i) => series('m', { id: String(i) }, [[NOW - 1000, i]])));
    fake.asLayout1();
    const second = new CassandraStore({ client: fake, createSchema: true, clock: () => fake.now });
    await second.init();
    assert.deepEqual((await readAll(second, { metric: 'm', tags: { id: ['5002'] } })).map((s) => s.points), [[[NOW - 1000, 5002]]]);
  });
});

/** The latest bucket (ms) of metric `m`. */
async function lastBucket(fake: CqlFake): Promise<number> {
  const rows = (await fake.execute(q.selectBuckets, ['m', 0, Number.MAX_SAFE_INTEGER])).rows;
  return (rows.at(-1)?.bucket as Date).getTime();
}
