import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore, type KairosdbOptions, type Store } from '../src/index.js';
import { countPoints, wrapStore } from './helpers.js';

const body = [{ name: 'm', tags: { h: 'a' }, datapoints: [[1, 1]] }];

function listen(options: KairosdbOptions) {
  const app = new Koa();
  app.use(kairosdb(options));
  return app;
}

/** Waits until a condition holds, failing after 5 s instead of hanging. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A store whose writes wait until released. */
function gated() {
  const inner = new MemoryStore();
  const waiting: (() => void)[] = [];
  const store: Store = wrapStore(inner, {
    write: async (s: never) => {
      await new Promise<void>((resolve) => waiting.push(resolve));
      return inner.write(s);
    },
  });
  return { inner, store, release: () => waiting.splice(0).forEach((r) => r()), waiting };
}

describe('flood protection and timeouts', () => {
  it('answers 503 with Retry-After beyond maxInFlightRequests, and serves again afterwards', async () => {
    const { store, release, waiting, inner } = gated();
    const server = listen({ store, maxInFlightRequests: 2 }).listen(0);
    const api = request(server);
    const slow = [api.post('/api/v1/datapoints').send(body).then((r) => r), api.post('/api/v1/datapoints').send(body).then((r) => r)];
    await until(() => waiting.length >= 2);
    const refused = await api.post('/api/v1/datapoints').send(body);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assert.deepEqual(refused.body.errors, ['Too many requests in flight; retry later']);
    release();
    assert.deepEqual((await Promise.all(slow)).map((r) => r.status), [204, 204]);
    const again = api.post('/api/v1/datapoints').send(body).then((r) => r);
    await until(() => waiting.length >= 1);
    release();
    assert.equal((await again).status, 204);
    assert.equal(await countPoints(inner), 1);
    server.close();
    server.closeAllConnections();
  });

  it('answers 503 when the bodies in flight would exceed maxInFlightBytes', async () => {
    const { store, release, waiting } = gated();
    const server = listen({ store, maxInFlightBytes: 600 }).listen(0);
    const api = request(server);
    const big = [{ name: 'm', tags: { h: 'a' }, datapoints: Array.from({ length: 50 }, (_, i) => [i, i]) }];
    const first = api.post('/api/v1/datapoints').send(big).then((r) => r);
    await until(() => waiting.length >= 1);
    const second = await api.post('/api/v1/datapoints').send(big);
    assert.equal(second.status, 503);
    release();
    assert.equal((await first).status, 204);
    server.close();
    server.closeAllConnections();
  });

  it('answers 408 and closes the connection when a client stalls mid-body', async () => {
    const server = listen({ store: new MemoryStore(), bodyTimeoutMs: 200 }).listen(0);
    const port = (server.address() as { port: number }).port;
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /api/v1/datapoints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[{"name":');
      });
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('close', () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.match(answer, /The request body was not received within 200 ms/);
    server.close();
    server.closeAllConnections();
  });

  it('answers 503 when a store write hangs past writeTimeoutMs, and never 204', async () => {
    const hanging = Object.assign(new MemoryStore(), { write: () => new Promise<void>(() => {}) });
    const res = await request(listen({ store: hanging, writeTimeoutMs: 100 }).callback()).post('/api/v1/datapoints').send(body);
    assert.equal(res.status, 503);
    assert.deepEqual(res.body.errors, ['The store did not answer within 100 ms; retry later']);
    assert.ok(res.headers['retry-after']);
  });

  it('keeps the in-flight slot of a timed-out write until the write settles, so hung writes cannot pile up', async () => {
    const { store, release, waiting, inner } = gated();
    const app = listen({ store, maxInFlightRequests: 2, writeTimeoutMs: 50 });
    const api = request(app.callback());
    assert.deepEqual(await Promise.all([api.post('/api/v1/datapoints').send(body), api.post('/api/v1/datapoints').send(body)].map((r) => r.then((x) => x.body.errors[0]))), [
      'The store did not answer within 50 ms; retry later',
      'The store did not answer within 50 ms; retry later',
    ]);
    assert.equal(waiting.length, 2);
    const refused = await api.post('/api/v1/datapoints').send(body);
    assert.deepEqual(refused.body.errors, ['Too many requests in flight; retry later']);
    release();
    await until(() => waiting.length === 0);
    await new Promise((r) => setTimeout(r, 10));
    const later = api.post('/api/v1/datapoints').send(body).then((r) => r.status);
    await until(() => waiting.length === 1);
    release();
    assert.equal(await later, 204);
    assert.equal(await countPoints(inner), 1);
  });

  it('answers 503 to writes after the store was closed', async () => {
    const store = new MemoryStore();
    await store.close();
    const res = await request(listen({ store }).callback()).post('/api/v1/datapoints').send(body);
    assert.equal(res.status, 503);
  });
});

describe('onRequest', () => {
  it('reports status, bytes, datapoints and times of each request, and survives a throwing hook', async () => {
    const events: Record<string, unknown>[] = [];
    const app = listen({ store: new MemoryStore(), onRequest: (e) => void events.push(e as never) });
    const api = request(app.callback());
    const text = JSON.stringify([{ name: 'm', tags: { h: 'a' }, datapoints: [[1, 1], [2, 2]] }]);
    await api.post('/api/v1/datapoints').set('Content-Type', 'application/json').send(text);
    await api.post('/api/v1/datapoints').set('Content-Type', 'application/json').send('[{"name":""}]');
    await api.delete('/api/v1/metric/m');
    assert.deepEqual(
      events.map(({ method, route, status, bytesIn, datapoints }) => ({ method, route, status, bytesIn, datapoints })),
      [
        { method: 'POST', route: '/datapoints', status: 204, bytesIn: text.length, datapoints: 2 },
        { method: 'POST', route: '/datapoints', status: 400, bytesIn: 13, datapoints: 0 },
        { method: 'DELETE', route: '/metric/{name}', status: 204, bytesIn: 0, datapoints: 0 },
      ],
    );
    assert.ok(events.every((e) => typeof e.durationMs === 'number' && typeof e.storeMs === 'number'));
    const throwing = listen({ store: new MemoryStore(), onRequest: () => { throw new Error('metrics down'); } });
    assert.equal((await request(throwing.callback()).post('/api/v1/datapoints').send(body)).status, 204);
  });
});

describe('authorize and tenants', () => {
  it('answers 403 when authorize says no, before anything is written', async () => {
    const store = new MemoryStore();
    const seen: string[] = [];
    const app = listen({
      store,
      authorize: (ctx, req) => {
        seen.push(req.action);
        return ctx.get('x-role') === 'writer';
      },
    });
    const denied = await request(app.callback()).post('/api/v1/datapoints').send(body);
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.body.errors, ['Forbidden']);
    assert.equal(await countPoints(store), 0);
    assert.equal((await request(app.callback()).post('/api/v1/datapoints').set('x-role', 'writer').send(body)).status, 204);
    assert.equal((await request(app.callback()).get('/api/v1/metricnames')).status, 403);
    assert.deepEqual(seen, ['write', 'write', 'list']);
  });

  it('keeps tenants apart: A can never read, list, overwrite or delete B', async () => {
    const store = new MemoryStore();
    const app = listen({ store, tenant: (ctx) => ctx.get('x-tenant') || undefined });
    const as = (tenant: string) => ({
      post: (path: string, b: unknown) => request(app.callback()).post(`/api/v1${path}`).set('x-tenant', tenant).send(b as object),
      get: (path: string) => request(app.callback()).get(`/api/v1${path}`).set('x-tenant', tenant),
      del: (path: string) => request(app.callback()).delete(`/api/v1${path}`).set('x-tenant', tenant),
    });
    const a = as('A');
    const b = as('B');
    assert.equal((await b.post('/datapoints', [{ name: 'shared', tags: { h: 'x' }, datapoints: [[1, 100]] }, { name: 'b.only', tags: { h: 'x' }, datapoints: [[1, 1]] }])).status, 204);
    assert.equal((await a.post('/datapoints', [{ name: 'shared', tags: { h: 'x' }, datapoints: [[1, 1], [2, 2]] }])).status, 204);

    const spoof = await a.post('/datapoints', [{ name: 'shared', tags: { h: 'x', tenant: 'B' }, datapoints: [[1, -1]] }]);
    assert.equal(spoof.status, 403);
    assert.deepEqual(spoof.body.errors, ['metric[0].tag[tenant] may not name another tenant']);

    const read = await a.post('/datapoints/query', { start_absolute: 0, metrics: [{ name: 'shared' }, { name: 'b.only' }] });
    assert.deepEqual(read.body.queries[0].results[0].values, [[1, 1], [2, 2]]);
    assert.deepEqual(read.body.queries[0].results[0].tags, { h: ['x'], tenant: ['A'] });
    assert.deepEqual(read.body.queries[1].results[0].values, []);
    assert.equal((await a.post('/datapoints/query', { start_absolute: 0, metrics: [{ name: 'shared', tags: { tenant: 'B' } }] })).status, 403);
    const tags = await a.post('/datapoints/query/tags', { start_absolute: 0, metrics: [{ name: 'b.only' }] });
    assert.deepEqual(tags.body.queries[0].results[0].tags, {});
    assert.deepEqual((await a.get('/metricnames')).body, { results: ['shared'] });

    assert.equal((await a.del('/metric/shared')).status, 204);
    assert.equal((await a.post('/datapoints/delete', { start_absolute: 0, metrics: [{ name: 'b.only' }] })).status, 204);
    const bRead = await b.post('/datapoints/query', { start_absolute: 0, metrics: [{ name: 'shared' }, { name: 'b.only' }] });
    assert.deepEqual(bRead.body.queries.map((q: { results: { values: unknown[] }[] }) => q.results[0]?.values), [[[1, 100]], [[1, 1]]]);
    assert.equal((await request(app.callback()).post('/api/v1/datapoints').send(body)).status, 403);
  });
});
