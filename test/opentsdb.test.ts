import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore, type AccessRequest, type KairosdbOptions } from '../src/index.js';
import { readAll } from '../src/store-api/conformance.js';

function app(options: Partial<KairosdbOptions> = {}) {
  const store = new MemoryStore();
  const koa = new Koa();
  koa.use(kairosdb({ store, routes: { opentsdb: true }, ...options }));
  return { store, server: koa.callback() };
}

const point = (over: Record<string, unknown> = {}) => ({ metric: 'sys.cpu.nice', timestamp: 1346846400, value: 18, tags: { host: 'web01', dc: 'lga' }, ...over });

describe("OpenTSDB's POST /api/put", () => {
  it('stores one point or an array (seconds and ms, numbers and numeric strings) and answers 204', async () => {
    const { store, server } = app();
    await request(server).post('/api/v1/api/put').send(point()).expect(204);
    await request(server).post('/api/v1/api/put').send([point({ timestamp: 1346846400500, value: '9.5' }), point({ tags: { host: 'web02' }, value: 7 })]).expect(204);
    const found = await readAll(store, { metric: 'sys.cpu.nice' });
    assert.deepEqual(found.map((s) => [s.tags.host, s.type, s.points]), [
      ['web01', 'double', [[1346846400500, 9.5]]],
      ['web01', 'long', [[1346846400000, 18]]],
      ['web02', 'long', [[1346846400000, 7]]],
    ]);
  });

  it('stores a common body read from its bytes exactly as the same points read as JSON (ms and seconds, longs and doubles, a series\' points together or apart), with ?summary counts', async () => {
    const points = [
      point(), point({ timestamp: 1346846401, value: 19.25 }), point({ tags: { dc: 'lga', host: 'web01' }, timestamp: 1346846402 }),
      point({ metric: 'sys.cpu.user', timestamp: 1346846400123, value: -0.5 }), point({ timestamp: 1346846403, value: 2e3 }), point({ tags: { host: 'web02' }, value: 1.5e-7 }),
    ];
    const bytes = app();
    // Read from the bytes (no JSON.parse): compact, and pretty-printed.
    const fast = await request(bytes.server).post('/api/v1/api/put?summary').set('content-type', 'application/json').send(JSON.stringify(points, null, 2));
    assert.deepEqual([fast.status, fast.body], [200, { success: 6, failed: 0 }]);
    // The same points with a key the bytes reader leaves to JSON.parse (OpenTSDB ignores it).
    const json = app();
    await request(json.server).post('/api/v1/api/put').send(points.map((p) => ({ ...p, other: 1 }))).expect(204);
    for (const metric of ['sys.cpu.nice', 'sys.cpu.user']) assert.deepEqual(await readAll(bytes.store, { metric }), await readAll(json.store, { metric }));
    assert.equal((await readAll(bytes.store, { metric: 'sys.cpu.nice' })).reduce((n, s) => n + s.points.length, 0), 5);
  });

  it('stores the good points and answers 400 for the bad: OpenTSDB\'s error, ?summary counts, ?details which and why', async () => {
    const { store, server } = app();
    const body = [point(), point({ value: 'x' }), point({ tags: {} }), point({ metric: 'other', tags: { host: 'a'.repeat(5000) } })];
    const plain = await request(server).post('/api/v1/api/put').send(body);
    assert.deepEqual([plain.status, plain.body], [400, { error: { code: 400, message: 'One or more data points had errors', details: 'Please see the TSD logs or append "details" to the put request' } }]);
    const summary = await request(server).post('/api/v1/api/put?summary').send(body);
    assert.deepEqual([summary.status, summary.body], [400, { success: 1, failed: 3 }]);
    const details = await request(server).post('/api/v1/api/put?details=true').send(body);
    assert.equal(details.status, 400);
    assert.deepEqual(details.body.errors.map((e: { error: string }) => e.error.slice(0, 40)), ['value is not a number', 'at least one tag is required', 'tag[host].value is longer than 4096 char']);
    assert.deepEqual(details.body.errors[0].datapoint, point({ value: 'x' }));
    const ok = await request(server).post('/api/v1/api/put?summary').send(point());
    assert.deepEqual([ok.status, ok.body], [200, { success: 1, failed: 0 }]);
    assert.deepEqual((await readAll(store, { metric: 'sys.cpu.nice' }))[0]?.points, [[1346846400000, 18]]);
    assert.deepEqual(await store.metricNames(), ['sys.cpu.nice']);
  });

  it('answers a body that is not JSON in OpenTSDB\'s shape and stores nothing; authorize sees the protocol; the route is off unless asked for', async () => {
    const seen: AccessRequest[] = [];
    const { store, server } = app({ authorize: (_ctx, r) => void seen.push(r) });
    const bad = await request(server).post('/api/v1/api/put').set('Content-Type', 'application/json').send('{"metric":');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 400);
    assert.deepEqual(await store.metricNames(), []);
    await request(server).post('/api/v1/api/put').send(point()).expect(204);
    assert.equal((seen.at(-1) as { protocol?: string }).protocol, 'opentsdb');
    const off = new Koa();
    off.use(kairosdb({ store: new MemoryStore() }));
    await request(off.callback()).post('/api/v1/api/put').send(point()).expect(404);
  });
});
