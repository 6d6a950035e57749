// Issue #29 row 4: the Metadata API's key count is capped per service (each tenant's apart), and listings are
// streamed and capped by maxQueryResponseBytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore, type KairosdbOptions } from '../src/index.js';
import { SqliteStore } from '../src/sqlite.js';

function app(options: Partial<KairosdbOptions> = {}) {
  const koa = new Koa();
  koa.silent = true;
  koa.use(async (ctx, next) => {
    ctx.state.org = ctx.get('X-Org') || undefined;
    await next();
  });
  const store = options.store ?? new MemoryStore();
  koa.use(kairosdb({ ...options, store }));
  return { server: koa.callback(), store };
}

const stores = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore({ path: ':memory:', purgeIntervalMs: 0 })],
] as const;

for (const [label, makeStore] of stores) {
  describe(`metadata limits (#29 row 4, ${label})`, () => {
    it('a new key past maxMetadataKeys in a service answers 400; replacing a value and other services still work', async () => {
      const { server } = app({ store: makeStore(), maxMetadataKeys: 3 });
      for (const key of ['a', 'b']) assert.equal((await request(server).post(`/api/v1/metadata/svc/sk1/${key}`).send('v')).status, 204);
      assert.equal((await request(server).post('/api/v1/metadata/svc/sk2/c').send('v')).status, 204);
      const full = await request(server).post('/api/v1/metadata/svc/sk2/d').send('v');
      assert.equal(full.status, 400);
      assert.deepEqual(full.body.errors, ['The service already holds 3 metadata keys (maxMetadataKeys); delete some or raise the option']);
      assert.equal((await request(server).post('/api/v1/metadata/svc/sk1/a').send('replaced')).status, 204);
      assert.equal((await request(server).get('/api/v1/metadata/svc/sk1/a')).text, 'replaced');
      assert.equal((await request(server).post('/api/v1/metadata/other/sk/x').send('v')).status, 204);
      assert.equal((await request(server).delete('/api/v1/metadata/svc/sk1/b')).status, 204);
      assert.equal((await request(server).post('/api/v1/metadata/svc/sk2/d').send('v')).status, 204);
    });

    it("each tenant's services are capped apart", async () => {
      const { server } = app({ store: makeStore(), maxMetadataKeys: 2, tenant: (ctx) => ctx.state.org as string });
      for (const key of ['a', 'b']) assert.equal((await request(server).post(`/api/v1/metadata/svc/sk/${key}`).set('X-Org', 'A').send('v')).status, 204);
      assert.equal((await request(server).post('/api/v1/metadata/svc/sk/c').set('X-Org', 'A').send('v')).status, 400);
      assert.equal((await request(server).post('/api/v1/metadata/svc/sk/c').set('X-Org', 'B').send('v')).status, 204);
    });

    it('a service holding more keys than the cap (written before it) is not listed: 400, nothing loaded', async () => {
      const { server, store } = app({ store: makeStore(), maxMetadataKeys: 5 });
      for (let i = 0; i < 8; i++) await store.metadata?.set('svc', 'sk', `k${i}`, 'v');
      const res = await request(server).get('/api/v1/metadata/svc/sk');
      assert.equal(res.status, 400);
      assert.match(res.body.errors[0], /holds more than 5 metadata keys \(maxMetadataKeys\), too many to list/);
      assert.equal((await request(server).get('/api/v1/metadata/svc/sk/k7')).text, 'v');
    });
  });
}

describe('metadata listings are answers like queries (#29 row 4)', () => {
  const long = (i: number) => `${String(i).padStart(6, '0')}${'x'.repeat(994)}`;
  it('a listing over 1 MiB is streamed (chunked) and parses to every key', async () => {
    const { server, store } = app();
    for (let i = 0; i < 2000; i++) await store.metadata?.set('svc', 'sk', long(i), 'v');
    const res = await request(server).get('/api/v1/metadata/svc/sk');
    assert.equal(res.status, 200);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(res.body.results.length, 2000);
    assert.equal(res.body.results[1999], long(1999));
  });

  it('a listing larger than maxQueryResponseBytes answers 400', async () => {
    const { server, store } = app({ maxQueryResponseBytes: 100_000 });
    for (let i = 0; i < 200; i++) await store.metadata?.set('svc', 'sk', long(i), 'v');
    const res = await request(server).get('/api/v1/metadata/svc/sk');
    assert.equal(res.status, 400);
    assert.match(res.body.errors[0], /exceeds 100000 bytes \(maxQueryResponseBytes\)/);
  });
});
