import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyParser } from '@koa/bodyparser';
import { readAll } from '../src/store-api/conformance.js';
import Router from '@koa/router';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import mount from 'koa-mount';
import request from 'supertest';
import { kairosdb, MemoryStore } from '../src/index.js';
import { spawnSync } from 'node:child_process';

const point = [{ name: 'm', tags: { h: 'a' }, timestamp: 1, value: 1 }];
const query = JSON.stringify({ start_absolute: 0, metrics: [{ name: 'm' }] });

async function seeded(): Promise<MemoryStore> {
  const store = new MemoryStore();
  const app = new Koa();
  app.use(kairosdb({ store }));
  await request(app.callback()).post('/api/v1/datapoints').send(point).expect(204);
  return store;
}

describe('Mounting next to the usual Koa pieces (README "Mounting")', () => {
  it("reads a query that a body parser in front took for a form (curl -d) from @koa/bodyparser's rawBody", async () => {
    const app = new Koa();
    app.use(bodyParser());
    app.use(kairosdb({ store: await seeded() }));
    const res = await request(app.callback()).post('/api/v1/datapoints/query').type('form').send(query);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.queries[0].results[0].values, [[1, 1]]);
  });

  it("says why when koa-body took a query for a form and kept no text, and reads it with koa-body's includeUnparsed", async () => {
    for (const [includeUnparsed, status] of [[false, 400], [true, 200]] as const) {
      const app = new Koa();
      app.use(koaBody({ includeUnparsed }));
      app.use(kairosdb({ store: await seeded() }));
      const res = await request(app.callback()).post('/api/v1/datapoints/query').type('form').send(query);
      assert.equal(res.status, status, res.text);
      if (status === 400) {
        assert.deepEqual(res.body.errors, [
          'The body was parsed as a form by a body parser mounted before koa-kairosdb; send it with Content-Type: application/json, or mount kairosdb() before the body parser',
        ]);
      }
    }
  });

  it("takes bodies up to maxBodyBytes when mounted before a body parser (whose own 1 MB limit would answer 413 first)", async () => {
    const big = [{ name: 'big', tags: { h: 'a' }, datapoints: Array.from({ length: 90_000 }, (_, i) => [i + 1_000_000_000_000, i]) }];
    const text = JSON.stringify(big);
    assert.ok(text.length > 1024 * 1024);
    const before = new Koa();
    before.use(kairosdb({ store: new MemoryStore() }));
    before.use(bodyParser());
    assert.equal((await request(before.callback()).post('/api/v1/datapoints').type('json').send(text)).status, 204);
    const after = new Koa();
    after.use(bodyParser());
    after.use(kairosdb({ store: new MemoryStore() }));
    assert.equal((await request(after.callback()).post('/api/v1/datapoints').type('json').send(text)).status, 413);
  });

  it("stamps a tenant on a body a parser in front made without changing the host's object (its own body: in place)", async () => {
    const seen: unknown[] = [];
    const store = new MemoryStore();
    const app = new Koa();
    app.use(bodyParser());
    app.use(async (ctx, next) => {
      await next();
      seen.push(JSON.parse(JSON.stringify((ctx.request as { body?: unknown }).body)));
    });
    app.use(kairosdb({ store, tenant: () => 'acme' }));
    await request(app.callback()).post('/api/v1/datapoints').send([{ name: 'm', tags: { h: 'a' }, datapoints: [[1, 1]] }]).expect(204);
    assert.deepEqual(seen, [[{ name: 'm', tags: { h: 'a' }, datapoints: [[1, 1]] }]]);
    const plain = new Koa();
    plain.use(kairosdb({ store, tenant: () => 'acme' }));
    await request(plain.callback()).post('/api/v1/datapoints').send([{ name: 'n', tags: { h: 'b' }, datapoints: [[2, 2]] }]).expect(204);
    assert.deepEqual((await readAll(store, { metric: 'm' })).concat(await readAll(store, { metric: 'n' })).map((s) => s.tags), [{ h: 'a', tenant: 'acme' }, { h: 'b', tenant: 'acme' }]);
  });

  it('answers under koa-mount with clients appending /api/v1 themselves (base URL http://host/metrics)', async () => {
    const app = new Koa();
    app.use(mount('/metrics', kairosdb({ store: new MemoryStore() })));
    assert.equal((await request(app.callback()).post('/metrics/api/v1/datapoints').send(point)).status, 204);
    assert.equal((await request(app.callback()).get('/metrics/api/v1/metricnames')).body.results[0], 'm');
  });

  it('works beside @koa/router when mounted on the app, and the router keeps its own routes', async () => {
    const app = new Koa();
    const router = new Router();
    router.get('/hello', (ctx) => void (ctx.body = 'hi'));
    app.use(router.routes());
    app.use(kairosdb({ store: new MemoryStore(), prefix: '/metrics/api/v1' }));
    assert.equal((await request(app.callback()).post('/metrics/api/v1/datapoints').send(point)).status, 204);
    assert.equal((await request(app.callback()).get('/hello')).text, 'hi');
  });

  it('warns when a second mount of one app answers the same paths (it would never be reached)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const app = new Koa();
      app.use(kairosdb({ store: new MemoryStore() }));
      app.use(kairosdb({ store: new MemoryStore(), routes: { ingest: false, delete: false, health: false, metadata: false, metadataApi: false } }));
      app.use(kairosdb({ store: new MemoryStore(), prefix: '/other/api/v1' }));
      app.use(mount('/b', kairosdb({ store: new MemoryStore() })));
      await request(app.callback()).get('/not-kairosdb');
      await new Promise((resolve) => setImmediate(resolve));
      const shadow = warnings.filter((w) => w.name === 'KairosdbMountWarning');
      assert.equal(shadow.length, 1, shadow.map(String).join('\n'));
      assert.match(shadow[0]?.message ?? '', /already answers \/api\/v1\/datapoints\/query, \/api\/v1\/datapoints\/query\/tags; this one is never reached/);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('says what happened when the factory itself is given to app.use (app.use(kairosdb) instead of app.use(kairosdb({ store })))', async () => {
    const app = new Koa();
    app.silent = true;
    const errors: Error[] = [];
    app.on('error', (error: Error) => void errors.push(error));
    app.use(kairosdb as never);
    await request(app.callback()).get('/api/v1/version').expect(500);
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /kairosdb was given to app.use\(\) without being called: write app.use\(kairosdb\(\{ store \}\)\), not app.use\(kairosdb\)/);
  });

  it("works in the README's order: auth, kairosdb, the host's body parser, the host's router (which gets its bodies)", async () => {
    const store = new MemoryStore();
    const app = new Koa();
    const router = new Router();
    router.post('/echo', (ctx) => {
      ctx.body = { got: (ctx.request as { body?: unknown }).body };
    });
    app.use(async (ctx, next) => (ctx.get('Authorization') === 'Bearer t' ? next() : ctx.throw(401)));
    app.use(kairosdb({ store }));
    app.use(bodyParser());
    app.use(router.routes());
    const http = request(app.callback());
    await http.post('/api/v1/datapoints').set('Authorization', 'Bearer t').send(point).expect(204);
    assert.deepEqual((await http.post('/echo').set('Authorization', 'Bearer t').send({ a: 1 }).expect(200)).body, { got: { a: 1 } });
    await http.post('/api/v1/datapoints').send(point).expect(401);
  });
});

describe('Mounting: work done while the host starts, not in its first request', () => {
  it("loads Node's fetch classes when mounted (Koa compares every object or stream answer with Response: ~30 ms of the first query otherwise)", () => {
    // A process of its own: this one may have loaded them already.
    const code = `
      const loaded = () => process.moduleLoadList.some((m) => m.includes('undici'));
      const { kairosdb, MemoryStore } = await import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)});
      const imported = loaded();
      kairosdb({ store: new MemoryStore() });
      console.log(JSON.stringify([imported, loaded()]));`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), [false, true], 'not loaded by the import, loaded by the mount');
  });
});
