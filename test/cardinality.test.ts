// Issue #28: cardinality limits on ingest (tags per series, tag lengths) and on queries (series selected, checked
// from the index before any point is read).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import { countPoints, mount, wrapStore } from './helpers.js';
import { MemoryStore, type Store } from '../src/index.js';
import { SqliteStore } from '../src/sqlite.js';
import { series } from '../src/store-api/conformance.js';

const tagsOf = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, String(i)]));

describe('cardinality limits on ingest (#28)', () => {
  const rows: [string, Record<string, unknown>, object, number, string | undefined][] = [
    ['50 tags (the default maximum)', {}, tagsOf(50), 204, undefined],
    ['51 tags', {}, tagsOf(51), 400, 'metric[0](name=m).tags has more than 50 tags (maxTagsPerSeries).'],
    ['4 tags with maxTagsPerSeries 3', { maxTagsPerSeries: 3 }, tagsOf(4), 400, 'metric[0](name=m).tags has more than 3 tags (maxTagsPerSeries).'],
    ['a tag name of 257 characters', {}, { ['n'.repeat(257)]: 'v' }, 400, 'metric[0](name=m).tag[0].name is longer than 256 characters (maxTagNameLength).'],
    ['a tag value of 4097 characters', {}, { h: 'v'.repeat(4097) }, 400, 'metric[0](name=m).tag[h].value is longer than 4096 characters (maxTagValueLength).'],
    ['a tag value of 11 characters with maxTagValueLength 10', { maxTagValueLength: 10 }, { h: 'v'.repeat(11) }, 400, 'metric[0](name=m).tag[h].value is longer than 10 characters (maxTagValueLength).'],
    ['a numeric tag value (taken as its text)', {}, { h: 11111111111111110000 }, 204, undefined],
  ];
  for (const [title, options, tags, status, message] of rows) {
    it(`${title} → ${status}`, async () => {
      const { post, store } = mount(Koa, options);
      // Twice: the second time the tag set may come from the mount's cache of tag sets.
      for (let round = 0; round < 2; round++) {
        const res = await post([{ name: 'm', tags, timestamp: 1, value: 1 }]);
        assert.equal(res.status, status, res.text);
        if (message) assert.deepEqual(res.body.errors, [message]);
      }
      if (status !== 204) assert.equal(await countPoints(store), 0);
    });
  }

  it('a tenant-bound mount counts the tenant tag', async () => {
    const { post } = mount(Koa, { maxTagsPerSeries: 2, tenant: () => 'acme' });
    assert.equal((await post([{ name: 'm', tags: tagsOf(1), timestamp: 1, value: 1 }])).status, 204);
    assert.equal((await post([{ name: 'm', tags: tagsOf(2), timestamp: 1, value: 1 }])).status, 400);
  });
});

const stores: [string, () => Store][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore({ path: ':memory:', purgeIntervalMs: 0 })],
];

for (const [label, make] of stores) {
  describe(`maxQuerySeries (#28, ${label})`, () => {
    it('a query selecting more series than maxQuerySeries answers 400 before any point is read; a narrower one answers', async () => {
      const inner = make();
      await inner.write(Array.from({ length: 20 }, (_, i) => series('m', { id: String(i), host: `h${i % 2}` }, [[1, i]])));
      let reads = 0;
      const store = wrapStore(inner, { read: (q: Parameters<Store['read']>[0]) => (reads++, inner.read(q)) });
      const { app } = mount(Koa, { store, maxQuerySeries: 10 });
      const request = (await import('supertest')).default;
      const query = (tags?: object) => request(app.callback()).post('/api/v1/datapoints/query').send({ start_absolute: 0, metrics: [{ name: 'm', ...(tags ? { tags } : {}) }] });
      const all = await query();
      assert.equal(all.status, 400);
      assert.deepEqual(all.body.errors, ['The query selects more than 10 series of one metric (maxQuerySeries); narrow it with tags']);
      assert.equal((await query({ host: ['h0', 'h1'] })).status, 400);
      assert.equal(reads, 0, 'refused from the index: the store was never asked to read');
      const one = await query({ id: ['7'] });
      assert.equal(one.status, 200);
      assert.deepEqual(one.body.queries[0].results[0].values, [[1, 7]]);
      assert.equal((await query({ host: ['h1'] })).body.queries[0].sample_size, 10);
      await inner.close();
    });
  });
}

describe('maxQuerySeries with a store that cannot count (#28)', () => {
  it('is enforced as the series are read', async () => {
    const inner = new MemoryStore();
    await inner.write(Array.from({ length: 20 }, (_, i) => series('m', { id: String(i) }, [[1, i]])));
    const store = wrapStore(inner, { countSeries: undefined });
    const { app } = mount(Koa, { store, maxQuerySeries: 10 });
    const request = (await import('supertest')).default;
    const res = await request(app.callback()).post('/api/v1/datapoints/query').send({ start_absolute: 0, metrics: [{ name: 'm' }] });
    assert.equal(res.status, 400);
    assert.match(res.body.errors[0], /maxQuerySeries/);
  });
});

for (const [label, make] of stores) {
  describe(`a tenant's metric names (#29 row 11, #28; ${label})`, () => {
    it("come from the index: no read per name of another tenant, and none of the other tenant's names", async () => {
      const inner = make();
      await inner.write([series('app.a', { tenant: 'A', h: 'x' }, [[1, 1]])]);
      await inner.write(Array.from({ length: 2000 }, (_, i) => series(`app.b${i}`, { tenant: 'B', h: 'x' }, [[1, i]])));
      let reads = 0;
      const store = wrapStore(inner, { read: (q: Parameters<Store['read']>[0]) => (reads++, inner.read(q)) });
      const { app } = mount(Koa, { store, tenant: (ctx) => ctx.get('X-Tenant') });
      const request = (await import('supertest')).default;
      const res = await request(app.callback()).get('/api/v1/metricnames?prefix=app').set('X-Tenant', 'A');
      assert.deepEqual(res.body, { results: ['app.a'] });
      assert.equal(reads, 0);
      assert.equal((await request(app.callback()).get('/api/v1/metricnames?prefix=app.b1').set('X-Tenant', 'B')).body.results.length, 1111);
      await inner.close();
    });
  });
}

describe('the memory store adds many new series without holding the event loop (#28)', () => {
  it('a whole-metric delete between the slices of a write loses none of its points', async () => {
    const store = new MemoryStore();
    const writing = store.write(Array.from({ length: 5000 }, (_, i) => series('m', { id: String(i) }, [[1, i]])));
    await new Promise((resolve) => setImmediate(resolve));
    await store.delete({ metric: 'm' });
    await writing;
    assert.equal(await store.countSeries({ metric: 'm' }, 10_000), 5000);
    assert.equal(await countPoints(store), 5000);
  });
});

for (const [label, make] of stores) {
  describe(`maxNewSeriesPerMinute (#28, ${label})`, () => {
    it("a write past a tenant's budget of new series answers 429 with Retry-After and writes nothing; known series and other tenants are not held back", async () => {
      const store = make();
      const { app } = mount(Koa, { store, maxNewSeriesPerMinute: 5, tenant: (ctx) => ctx.get('X-Tenant') });
      const request = (await import('supertest')).default;
      const write = (tenant: string, ids: number[], ts = 1) =>
        request(app.callback()).post('/api/v1/datapoints').set('X-Tenant', tenant).send(ids.map((id) => ({ name: 'm', tags: { id: String(id) }, timestamp: ts, value: id })));
      assert.equal((await write('A', [1, 2, 3])).status, 204);
      const refused = await write('A', [4, 5, 6]);
      assert.equal(refused.status, 429);
      assert.deepEqual(refused.body.errors, ['This write adds 3 new series; at most 5 new series a minute are accepted (maxNewSeriesPerMinute); retry later']);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
      assert.equal(await store.countSeries?.({ metric: 'm' }, 100), 3, 'nothing of the refused write was stored');
      assert.equal((await write('A', [1, 2, 3], 2)).status, 204, 'new points of known series');
      assert.equal((await write('B', [7, 8, 9, 10, 11])).status, 204, "another tenant's budget");
      await store.close();
    });
  });
}

describe('maxNewSeriesPerMinute (#28): the budget', () => {
  it('refills continuously, a minute for the whole budget; more than a minute of new series at once waits 60 s', async () => {
    const { NewSeriesRate } = await import('../src/http/new-series-rate.js');
    let now = 0;
    const rate = new NewSeriesRate(60, () => now);
    rate.take('t', 60);
    assert.throws(() => rate.take('t', 1), (e: { status: number; retryAfter: number }) => e.status === 429 && e.retryAfter === 1);
    now += 10_000;
    rate.take('t', 10);
    assert.throws(() => rate.take('t', 61), (e: { retryAfter: number }) => e.retryAfter === 60);
  });

  it('needs a store that counts new series', () => {
    const store = wrapStore(new MemoryStore(), { countNewSeries: undefined });
    assert.throws(() => mount(Koa, { store, maxNewSeriesPerMinute: 10 }), /maxNewSeriesPerMinute needs a store that counts new series/);
  });
});

describe('the SQLite index is read a page at a time (#28)', () => {
  it('the first series of a read of 5,000 comes after one page of the index, not all of them', async () => {
    const { SqliteSeriesIndex } = await import('../src/stores/sqlite/series-index.js');
    const store = new SqliteStore({ path: ':memory:', purgeIntervalMs: 0 });
    await store.write(Array.from({ length: 5000 }, (_, i) => series('m', { id: String(i) }, [[1, i]])));
    const pages = SqliteSeriesIndex.prototype.pages;
    let pulled = 0;
    SqliteSeriesIndex.prototype.pages = function* (this: InstanceType<typeof SqliteSeriesIndex>, ...args: Parameters<typeof pages>) {
      for (const page of pages.apply(this, args)) {
        pulled++;
        yield page;
      }
    };
    try {
      const reading = store.read({ metric: 'm' })[Symbol.asyncIterator]();
      await reading.next();
      assert.equal(pulled, 1);
      let n = 1;
      while (!(await reading.next()).done) n++;
      assert.equal(n, 5000);
      assert.equal(pulled, 5);
    } finally {
      SqliteSeriesIndex.prototype.pages = pages;
      await store.close();
    }
  });
});

describe('maxNamesPerBody: different member names in one JSON body, counted before parsing (#28)', () => {
  // 240 series of 50 tags each, every tag name new: 12,000 names (JSON.parse of 700,000 such names held the loop 2.3 s).
  const manyNames = (series: number, offset = 0) => Array.from({ length: series }, (_, s) => ({ name: 'm', tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${offset + s * 50 + i}`, 'v'])), timestamp: 1, value: s }));

  it('refuses a body of more than 10,000 different names with 400, storing nothing', async () => {
    const { post, store } = mount(Koa);
    const res = await post(manyNames(240));
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.body.errors, ['Invalid json. The body uses more than 10000 different member names (maxNamesPerBody).']);
    assert.equal(await countPoints(store), 0);
  });

  it('takes it with a larger maxNamesPerBody, and takes any number of series that reuse their names', async () => {
    assert.equal((await mount(Koa, { maxNamesPerBody: 20_000 }).post(manyNames(240))).status, 204);
    const { post, store } = mount(Koa);
    const reused = Array.from({ length: 20_000 }, (_, s) => ({ name: 'm', tags: { host: `h${s}`, region: 'r' }, timestamp: 1, value: s }));
    assert.ok(JSON.stringify(reused).length > 64 * 1024);
    assert.equal((await post(reused)).status, 204);
    assert.equal(await countPoints(store), 20_000);
  });

  it('guards the query and OpenTSDB routes too', async () => {
    const { app } = mount(Koa, { routes: { opentsdb: true } });
    const request = (await import('supertest')).default;
    const tags = Object.fromEntries(Array.from({ length: 12_000 }, (_, i) => [`t${i}`, ['v']]));
    const query = await request(app.callback()).post('/api/v1/datapoints/query').send({ start_absolute: 0, metrics: [{ name: 'm', tags }] });
    assert.equal(query.status, 400);
    assert.deepEqual(query.body.errors, ['Invalid json. The body uses more than 10000 different member names (maxNamesPerBody).']);
    const points = Array.from({ length: 240 }, (_, s) => ({ metric: 'm', timestamp: 1, value: 1, tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${s * 50 + i}`, 'v'])) }));
    const put = await request(app.callback()).post('/api/v1/api/put').send(points);
    assert.equal(put.status, 400, put.text);
    assert.match(put.text, /more than 10000 different member names \(maxNamesPerBody\)/);
    // A string value: not the form the bytes reader takes, read as JSON (scanned before it is parsed).
    const asJson = await request(app.callback()).post('/api/v1/api/put').send([{ metric: 'm', timestamp: 1, value: '1', tags: { h: 'a' } }, ...points]);
    assert.equal(asJson.status, 400, asJson.text);
    assert.match(asJson.text, /more than 10000 different member names \(maxNamesPerBody\)/);
  });
});
