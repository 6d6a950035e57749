import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore, type KairosdbOptions, type Store } from '../src/index.js';
import { SqliteStore } from '../src/sqlite.js';
import { readAll } from '../src/store-api/conformance.js';
import { wrapStore } from './helpers.js';

const body = [
  { name: 'cpu', tags: { host: 'a' }, datapoints: [[1000, 1], [2000, 2]] },
  { name: 'cpu', tags: { host: 'b' }, datapoints: [[1000, 3]] },
];
const query = { start_absolute: 0, metrics: [{ name: 'cpu' }] };

function app(options: Partial<KairosdbOptions> = {}) {
  const store = options.store ?? new MemoryStore();
  const middleware = kairosdb({ routes: { metrics: true }, ...options, store });
  const koa = new Koa();
  koa.use(middleware);
  return { store, middleware, server: koa.callback(), koa };
}

/** The value of one sample line of the exposition (undefined when absent). */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('self-metrics: GET /metrics (Prometheus text format)', () => {
  it('is mounted only when asked for (routes: { metrics: true })', async () => {
    const koa = new Koa();
    koa.use(kairosdb({ store: new MemoryStore() }));
    assert.equal((await request(koa.callback()).get('/api/v1/metrics')).status, 404);
    const on = app();
    const res = await request(on.server).get('/api/v1/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  });

  it('counts requests by route and status, points written and read, errors by code, and shows the store figures', async () => {
    const { server } = app();
    await request(server).post('/api/v1/datapoints').send(body).expect(204);
    await request(server).post('/api/v1/datapoints').send([{ name: 'cpu', datapoints: [[1, 'x', 'long']] }]).expect(400);
    await request(server).post('/api/v1/datapoints/query').send(query).expect(200);
    const text = (await request(server).get('/api/v1/metrics')).text;
    assert.equal(sample(text, 'koa_kairosdb_http_requests_total{route="/datapoints",method="POST",status="204"}'), 1);
    assert.equal(sample(text, 'koa_kairosdb_http_requests_total{route="/datapoints",method="POST",status="400"}'), 1);
    assert.equal(sample(text, 'koa_kairosdb_http_requests_total{route="/datapoints/query",method="POST",status="200"}'), 1);
    assert.equal(sample(text, 'koa_kairosdb_ingested_datapoints_total'), 3);
    assert.equal(sample(text, 'koa_kairosdb_queried_datapoints_total'), 3);
    assert.equal(sample(text, 'koa_kairosdb_errors_total{code="INVALID_BODY"}'), 1);
    assert.equal(sample(text, 'koa_kairosdb_store_write_duration_seconds_count'), 1);
    assert.equal(sample(text, 'koa_kairosdb_store_read_duration_seconds_count'), 1);
    assert.equal(sample(text, 'koa_kairosdb_http_request_duration_seconds_bucket{route="/datapoints",le="+Inf"}'), 2);
    assert.equal(sample(text, 'koa_kairosdb_in_flight_requests{kind="write"}'), 0);
    assert.equal(sample(text, 'koa_kairosdb_store_series'), 2);
    assert.ok((sample(text, 'koa_kairosdb_http_received_bytes_total{route="/datapoints"}') ?? 0) > 100);
  });

  it('counts points written in every protocol, and the store time of tag queries', async () => {
    const { server } = app({ routes: { metrics: true, influx: true } });
    await request(server).post('/api/v1/datapoints').send(body).expect(204);
    await request(server).post('/api/v1/write').set('Content-Type', 'text/plain').send('cpu,host=c v=1 1000').expect(204);
    await request(server).post('/api/v1/datapoints/query/tags').send(query).expect(200);
    await request(server).get('/api/v1/metricnames').expect(200);
    const text = (await request(server).get('/api/v1/metrics')).text;
    assert.equal(sample(text, 'koa_kairosdb_ingested_datapoints_total'), 4);
    assert.equal(sample(text, 'koa_kairosdb_store_write_duration_seconds_count'), 2);
    assert.equal(sample(text, 'koa_kairosdb_store_read_duration_seconds_count'), 1);
  });

  it('counts admission refusals by their code (503 OVERLOADED while the write slots are taken)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const inner = new MemoryStore();
    const store = wrapStore(inner, { write: async (s: Parameters<Store['write']>[0]) => (await held, inner.write(s)) });
    const { server } = app({ store, maxInFlightRequests: 1 });
    const first = request(server).post('/api/v1/datapoints').send(body).then((r) => r.status);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await request(server).post('/api/v1/datapoints').send(body)).status, 503);
    const during = (await request(server).get('/api/v1/metrics')).text;
    assert.equal(sample(during, 'koa_kairosdb_in_flight_requests{kind="write"}'), 1);
    release();
    assert.equal(await first, 204);
    const text = (await request(server).get('/api/v1/metrics')).text;
    assert.equal(sample(text, 'koa_kairosdb_errors_total{code="OVERLOADED"}'), 1);
  });

  it('counts a streamed answer cut off after it started, by reason', async () => {
    const store = new MemoryStore();
    const timestamps = Array.from({ length: 200_000 }, (_, i) => i + 1);
    await store.write([{ metric: 'big', tags: { h: 'a' }, type: 'long', storage: 'long', ttl: 0, timestamps, values: timestamps }]);
    const { koa } = app({ store, maxQueryResponseBytes: 2 * 1024 * 1024 });
    const server = koa.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const payload = JSON.stringify({ start_absolute: 0, metrics: [{ name: 'big' }] });
      await new Promise<void>((resolve) => {
        const req = httpRequest({ port, host: '127.0.0.1', path: '/api/v1/datapoints/query', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
          res.on('data', () => {});
          res.on('error', () => resolve());
          res.on('close', () => resolve());
        });
        req.on('error', () => resolve());
        req.end(payload);
      });
      const text = await (await fetch(`http://127.0.0.1:${port}/api/v1/metrics`)).text();
      assert.equal(sample(text, 'koa_kairosdb_answers_cut_total{reason="QUERY_RESPONSE_TOO_LARGE"}'), 1);
    } finally {
      server.close();
    }
  });

  it('shows the SQLite store backlog and log size, and is what middleware.metrics() returns', async () => {
    const store = new SqliteStore({ path: ':memory:', compactIntervalMs: 0 });
    const { server, middleware } = app({ store });
    await request(server).post('/api/v1/datapoints').send(body).expect(204);
    const text = await middleware.metrics();
    assert.equal(sample(text, 'koa_kairosdb_store_backlog_batches'), 1);
    assert.equal(sample(text, 'koa_kairosdb_store_wal_bytes'), 0);
    await store.close();
  });

  it("shows a SQLite file's series, counted by its compaction worker (not on the host's thread)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kairosdb-figures-'));
    const store = new SqliteStore({ path: join(dir, 'm.db') });
    try {
      await store.init();
      const { server, middleware } = app({ store });
      await request(server).post('/api/v1/datapoints').send(body).expect(204);
      const text = await middleware.metrics();
      assert.equal(sample(text, 'koa_kairosdb_store_series'), 2);
      assert.ok((sample(text, 'koa_kairosdb_store_wal_bytes') ?? 0) > 0);
      assert.deepEqual(await Promise.all([store.figures(), store.figures()]).then((f) => f.map((x) => x.series)), [2, 2]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('escapes label values and refuses a misnamed store figure', async () => {
    const inner = new MemoryStore();
    const store = wrapStore(inner, { figures: async () => ({ 'Bad-Name': 1, good: 2, nan: Number.NaN }) });
    const { server } = app({ store });
    await request(server).get('/api/v1/x"y\\z').expect(404);
    await request(server).delete('/api/v1/metric/a%22b').expect(204);
    const text = (await request(server).get('/api/v1/metrics')).text;
    assert.equal(sample(text, 'koa_kairosdb_store_good'), 2);
    assert.doesNotMatch(text, /Bad-Name|store_nan/);
    assert.match(text, /route="\/metric\/\{name\}"/);
  });
});

describe('self-metrics: statistics written into the store (statistics option)', () => {
  it('writes counts since the last report, mean times in ms and gauges, tagged, every intervalMs', async () => {
    const store = new MemoryStore();
    const { server, middleware } = app({ store, statistics: { intervalMs: 1000, tags: { host: 'web-1' } } });
    await request(server).post('/api/v1/datapoints').send(body).expect(204);
    await request(server).post('/api/v1/datapoints').send(body).expect(204);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    await request(server).post('/api/v1/datapoints').send(body).expect(204);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const counts = await readAll(store, { metric: 'kairosdb.http.request_count' });
    const ingest = counts.find((s) => s.tags.route === '/datapoints');
    assert.deepEqual(ingest?.tags, { host: 'web-1', method: 'POST', route: '/datapoints', status: '204' });
    assert.deepEqual(ingest?.points.map(([, v]) => v), [2, 1]);
    const points = await readAll(store, { metric: 'kairosdb.http.ingest_count' });
    assert.deepEqual(points[0]?.points.map(([, v]) => v), [6, 3]);
    const writeTime = await readAll(store, { metric: 'kairosdb.datastore.write_time' });
    assert.equal(writeTime[0]?.points.length, 2);
    assert.ok(writeTime[0]?.points.every(([, v]) => typeof v === 'number' && v >= 0));
    const series = await readAll(store, { metric: 'kairosdb.store.series' });
    assert.ok((series[0]?.points.at(-1)?.[1] as number) >= 2);
    assert.ok((await store.metricNames()).includes('kairosdb.http.request_time'));
    await middleware.close({ graceMs: 0 });
  });

  it('stops at close(), and a failing write is logged once, not thrown', async () => {
    const warnings: string[] = [];
    const logger = { error() {}, info() {}, debug() {}, warn: (_: unknown, message: string) => void warnings.push(message) };
    const inner = new MemoryStore();
    const store = wrapStore(inner, { write: async () => Promise.reject(new Error('disk full')) });
    const { middleware } = app({ store, logger, statistics: { intervalMs: 1000 } });
    await new Promise((resolve) => setTimeout(resolve, 2300));
    assert.deepEqual(warnings, ['koa-kairosdb: writing the statistics failed (tried again at the next interval)']);
    await middleware.close({ graceMs: 0 });
  });

  it('checks its options', () => {
    const store = new MemoryStore();
    assert.throws(() => kairosdb({ store, statistics: { intervalMs: 10 } }), /statistics\.intervalMs must be an integer ≥ 1000, got 10/);
    assert.throws(() => kairosdb({ store, statistics: { interval: 1000 } as never }), /statistics: unknown option 'interval'; did you mean 'intervalMs'\?/);
    assert.throws(() => kairosdb({ store, statistics: { tags: { host: '' } } }), /statistics\.tags must be an object of non-empty strings/);
    assert.throws(() => kairosdb({ store, statistics: 'yes' as never }), /options\.statistics must be true, false or an object/);
  });
});
