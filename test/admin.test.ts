// #31 row 9: KairosDB's admin API — running queries (with a stable hash and their JSON), killing one by hash (it
// stops at its next yield, answers 503 and frees its slot), scheduled jobs; off unless routes.admin, behind authorize.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { MemoryStore, type AccessRequest, type SeriesQuery, type SeriesRead } from '../src/index.js';
import { mount } from './helpers.js';

const NOW = Date.UTC(2026, 10, 1);

/** A memory store whose reads wait for `open()` before their first series. */
function gatedStore() {
  const store = new MemoryStore();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const read = store.read.bind(store);
  store.read = async function* (query: SeriesQuery): AsyncGenerator<SeriesRead> {
    await gate;
    yield* read(query);
  };
  return { store, open };
}

const query = (name: string) => ({ start_absolute: NOW - 60_000, end_absolute: NOW, metrics: [{ name, tags: { h: ['a'] } }] });

describe('the admin API (routes.admin)', () => {
  it('lists a running query with its hash and JSON; killquery stops it (503) and frees its slot; the hash is stable', async () => {
    const { store, open } = gatedStore();
    const { app, post } = mount(Koa, { store, routes: { admin: true }, maxInFlightQueries: 1 });
    assert.equal((await post([{ name: 'm', tags: { h: 'a' }, datapoints: [[NOW - 1000, 1]] }])).status, 204);
    const server = app.callback();
    const first = request(server).post('/api/v1/datapoints/query').send(query('m')).then((res) => res);
    let listed: { queries: Record<string, unknown>[]; 'queries waiting': number } = { queries: [], 'queries waiting': 0 };
    for (let i = 0; i < 100 && listed.queries.length === 0; i++) {
      listed = (await request(server).get('/api/v1/admin/runningqueries')).body;
      if (listed.queries.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(listed.queries.length, 1);
    const entry = listed.queries[0] as { 'query hash': string; 'metric name': string; 'query JSON': unknown };
    assert.equal(entry['metric name'], 'm');
    assert.match(entry['query hash'], /^[0-9a-f]{32}$/);
    assert.deepEqual(entry['query JSON'], { start_absolute: NOW - 60_000, end_absolute: NOW, metric: { name: 'm', tags: { h: ['a'] } } });
    assert.equal(listed['queries waiting'], 0);
    assert.equal((await request(server).post('/api/v1/datapoints/query').send(query('m'))).status, 503, 'its slot is taken');

    assert.equal((await request(server).get(`/api/v1/admin/killquery/${entry['query hash']}`)).status, 204);
    open();
    const killed = await first;
    assert.equal(killed.status, 503);
    assert.match(killed.body.errors[0], /The query was stopped by an administrator \(GET \/admin\/killquery\/[0-9a-f]{32}\)/);
    const again = await request(server).post('/api/v1/datapoints/query').send(query('m'));
    assert.equal(again.status, 200, 'the slot is free');
    assert.deepEqual((await request(server).get('/api/v1/admin/runningqueries')).body, { queries: [], 'queries waiting': 0 });

    // The same metric query and range give the same hash: a second run of it is listed under the first one's hash.
    const gated = gatedStore();
    const other = mount(Koa, { store: gated.store, routes: { admin: true } });
    const pending = request(other.app.callback()).post('/api/v1/datapoints/query').send(query('m')).then((res) => res);
    let hash: string | undefined;
    for (let i = 0; i < 100 && !hash; i++) {
      hash = (await request(other.app.callback()).get('/api/v1/admin/runningqueries')).body.queries[0]?.['query hash'];
      if (!hash) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(hash, entry['query hash']);
    gated.open();
    assert.equal((await pending).status, 200);
  });

  it('lists a query while its streamed answer is still being sent, and killing it cuts that answer', async () => {
    const { app, post } = mount(Koa, { routes: { admin: true } });
    // ~20 MB of answer: more than the socket buffers hold for a client that does not read.
    for (let at = 0; at < 800_000; at += 200_000) {
      const datapoints = Array.from({ length: 200_000 }, (_, i) => [NOW - 900_000 + at + i, at + i + 0.123456]);
      assert.equal((await post([{ name: 'big', tags: { h: 'a' }, datapoints }])).status, 204);
    }
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    try {
      const body = JSON.stringify({ start_absolute: NOW - 1_000_000, end_absolute: NOW, metrics: [{ name: 'big' }] });
      let response: http.IncomingMessage | undefined;
      const ended = new Promise<string>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/datapoints/query', headers: { 'content-type': 'application/json' } }, (res) => {
          response = res;
          res.pause(); // a client that does not read: the answer stays unsent
          res.on('error', () => resolve('cut'));
          res.on('close', () => resolve(res.complete ? 'complete' : 'cut'));
        });
        req.on('error', () => resolve('cut'));
        req.end(body);
      });
      let listed: { 'query hash': string }[] = [];
      for (let i = 0; i < 200 && listed.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        listed = (await request(server).get('/api/v1/admin/runningqueries')).body.queries;
      }
      assert.equal(listed.length, 1, 'listed after its handler returned, while the answer streams');
      assert.equal((await request(server).get(`/api/v1/admin/killquery/${listed[0]?.['query hash']}`)).status, 204);
      // Cut at once, though the client reads nothing: the query leaves the list and frees its slot.
      let left: unknown[] = listed;
      for (let i = 0; i < 50 && left.length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        left = (await request(server).get('/api/v1/admin/runningqueries')).body.queries;
      }
      assert.deepEqual(left, [], 'gone within 0.5 s of the kill, the client still not reading');
      response?.resume(); // reading now, the client finds the answer cut short, not complete
      assert.equal(await ended, 'cut');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('answers 404 for a hash no running query has, [] for the scheduled jobs, and nothing without routes.admin', async () => {
    const { app } = mount(Koa, { routes: { admin: true } });
    const unknown = await request(app.callback()).get('/api/v1/admin/killquery/0123abcd');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.errors[0], /No running query has hash '0123abcd'/);
    const jobs = await request(app.callback()).get('/api/v1/admin/scheduledjobs');
    assert.equal(jobs.status, 200);
    assert.deepEqual(jobs.body, []);
    const off = mount(Koa, {});
    assert.equal((await request(off.app.callback()).get('/api/v1/admin/runningqueries')).status, 404);
  });

  it('asks authorize with the admin action, its operation and the hash', async () => {
    const seen: AccessRequest[] = [];
    const { app } = mount(Koa, { routes: { admin: true }, authorize: (_ctx, access) => (seen.push(access), access.action !== 'admin' || access.operation === 'list') });
    assert.equal((await request(app.callback()).get('/api/v1/admin/runningqueries')).status, 200);
    assert.equal((await request(app.callback()).get('/api/v1/admin/killquery/abc')).status, 403);
    assert.equal((await request(app.callback()).get('/api/v1/admin/scheduledjobs')).status, 403);
    assert.deepEqual(seen, [
      { action: 'admin', operation: 'list' },
      { action: 'admin', operation: 'kill', hash: 'abc' },
      { action: 'admin', operation: 'jobs' },
    ]);
  });
});
