import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request as httpRequest } from 'node:http';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { koaBody } from 'koa-body';
import request from 'supertest';
import { kairosdb, MemoryStore, StoreUnavailableError, type Store } from '../src/index.js';
import { countPoints, KOAS, mount, wrapStore } from './helpers.js';

const body = JSON.stringify([{ name: 'm', tags: { host: 'a' }, datapoints: [[1, 1], [2, 2]] }]);

for (const [label, Koa] of KOAS) {
  describe(`HTTP edge (${label})`, () => {
    const decoding: [string, Buffer, Record<string, string>][] = [
      ['Content-Type application/gzip', gzipSync(body), { 'Content-Type': 'application/gzip' }],
      ['Content-Encoding gzip', gzipSync(body), { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }],
      ['Content-Encoding x-gzip, upper case', gzipSync(body), { 'Content-Encoding': 'X-GZIP' }],
      ['Content-Encoding deflate (zlib)', deflateSync(body), { 'Content-Encoding': 'deflate' }],
      ['Content-Encoding deflate (raw)', deflateRawSync(body), { 'Content-Encoding': 'deflate' }],
      ['no Content-Type at all', Buffer.from(body), {}],
      ['a UTF-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]), {}],
    ];
    for (const [title, payload, headers] of decoding) {
      it(`decodes ${title}`, async () => {
        const { post, read } = mount(Koa);
        const res = await post(payload, headers);
        assert.equal(res.status, 204, res.text);
        assert.deepEqual((await read('m'))[0]?.points, [[1, 1], [2, 2]]);
      });
    }

    it('decodes gzip sent chunked without Content-Length, as the Java client does', async () => {
      const { app, read } = mount(Koa);
      const server = app.listen(0);
      const { port } = server.address() as { port: number };
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ port, method: 'POST', path: '/api/v1/datapoints', headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Transfer-Encoding': 'chunked' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        const gz = gzipSync(body);
        req.write(gz.subarray(0, 10));
        setTimeout(() => req.end(gz.subarray(10)), 20);
      });
      server.close();
      server.closeAllConnections();
      assert.equal(status, 204);
      assert.deepEqual((await read('m'))[0]?.points, [[1, 1], [2, 2]]);
    });

    it('answers 400 to a body that claims gzip but is not', async () => {
      const { post } = mount(Koa);
      const res = await post(body, { 'Content-Type': 'application/gzip' });
      assert.equal(res.status, 400);
      assert.match(res.body.errors[0], /^Invalid gzip body: /);
    });

    it('answers 400 to truncated gzip', async () => {
      const { post } = mount(Koa);
      const gz = gzipSync(body);
      const res = await post(gz.subarray(0, gz.length - 10), { 'Content-Encoding': 'gzip' });
      assert.equal(res.status, 400);
      assert.match(res.body.errors[0], /^Invalid gzip body: /);
    });

    it('answers 415 to an unknown Content-Encoding', async () => {
      const { post } = mount(Koa);
      const res = await post(body, { 'Content-Encoding': 'br' });
      assert.equal(res.status, 415);
      assert.deepEqual(res.body.errors, ['Unsupported Content-Encoding: br']);
    });

    it('answers 413 over the wire limit', async () => {
      const { post } = mount(Koa, { maxBodyBytes: 100 });
      const res = await post(Buffer.alloc(101, 32), { 'Content-Type': 'application/json' });
      assert.equal(res.status, 413);
      assert.deepEqual(res.body.errors, ['Request body exceeds the limit of 100 bytes']);
    });

    it('answers 413 over the decompressed limit', async () => {
      const { post } = mount(Koa, { maxDecompressedBytes: 1000 });
      const res = await post(gzipSync(Buffer.alloc(1001, 32)), { 'Content-Encoding': 'gzip' });
      assert.equal(res.status, 413);
      assert.deepEqual(res.body.errors, ['Request body exceeds the limit of 1000 bytes']);
    });

    it('cuts a gzip bomb off at the limit in bounded memory', async () => {
      const { post } = mount(Koa, { maxDecompressedBytes: 8 * 1024 * 1024 });
      const bomb = gzipSync(Buffer.alloc(1024 * 1024 * 1024), { level: 9 });
      assert.ok(bomb.length < 2 * 1024 * 1024);
      const before = process.memoryUsage().rss;
      const res = await post(bomb, { 'Content-Encoding': 'gzip' });
      const grown = process.memoryUsage().rss - before;
      assert.equal(res.status, 413);
      assert.ok(grown < 200 * 1024 * 1024, `RSS grew by ${grown} bytes for a 1 GiB bomb`);
    });

    it('answers 400 to a body that is not UTF-8', async () => {
      const { post } = mount(Koa);
      const res = await post(Buffer.from([0x5b, 0xff, 0xfe, 0x5d]), {});
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.errors, ['Invalid json. The body is not valid UTF-8.']);
    });

    it('uses a body the host already parsed (koa-body mounted globally)', async () => {
      const store = new MemoryStore();
      const app = new Koa();
      app.use(koaBody());
      app.use(kairosdb({ store }));
      const json = await request(app.callback()).post('/api/v1/datapoints').set('Content-Type', 'application/json').send(body);
      assert.equal(json.status, 204, json.text);
      const text = await request(app.callback()).post('/api/v1/datapoints').set('Content-Type', 'text/plain').send('[{"name":"t","tags":{"a":"b"},"timestamp":1,"value":1}]');
      assert.equal(text.status, 204, text.text);
      const bad = await request(app.callback()).post('/api/v1/datapoints').set('Content-Type', 'application/json').send('[{"name":"","tags":{"a":"b"}}]');
      assert.deepEqual(bad.body.errors, ['metric[0].name may not be empty.']);
      assert.deepEqual(await store.metricNames(), ['m', 't']);
    });

    it('passes other routes and methods of other paths to the host untouched', async () => {
      const app = new Koa();
      app.use(kairosdb({ store: new MemoryStore() }));
      app.use((ctx) => {
        ctx.body = { host: ctx.method + ' ' + ctx.path };
      });
      for (const [method, path] of [['get', '/'], ['post', '/api/v1/other'], ['post', '/api/v1/datapoints/x'], ['post', '/api/v2/datapoints']] as const) {
        const res = await request(app.callback())[method](path);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { host: `${method.toUpperCase()} ${path}` });
      }
    });

    it('answers 405 with Allow to another method on its route', async () => {
      const { app } = mount(Koa);
      const res = await request(app.callback()).get('/api/v1/datapoints');
      assert.equal(res.status, 405);
      assert.equal(res.headers.allow, 'POST');
    });

    it('runs two mounts with different options side by side', async () => {
      const a = new MemoryStore();
      const b = new MemoryStore();
      const app = new Koa();
      app.use(kairosdb({ store: a }));
      app.use(kairosdb({ store: b, prefix: '/tenant-b/api/v1', maxBodyBytes: 50 }));
      assert.equal((await request(app.callback()).post('/api/v1/datapoints').send(body)).status, 204);
      assert.equal((await request(app.callback()).post('/tenant-b/api/v1/datapoints').send(body)).status, 413);
      const small = '{"name":"s","tags":{"a":"b"},"timestamp":1,"value":1}';
      assert.equal((await request(app.callback()).post('/tenant-b/api/v1/datapoints').send(small.slice(0, 50))).status, 400);
      assert.deepEqual(await a.metricNames(), ['m']);
      assert.deepEqual(await b.metricNames(), []);
    });

    it('answers 500 with a safe message when the store throws, logs the detail and emits it on the app', async () => {
      const logged: unknown[] = [];
      const logger = { error: (o: unknown) => logged.push(o), warn() {}, info() {}, debug() {} };
      const thrown = new Error('connection string postgres://secret@db');
      const { post, app } = mount(Koa, { store: failing(thrown), logger });
      const emitted: unknown[][] = [];
      app.on('error', (...args: unknown[]) => emitted.push(args));
      const res = await post(body);
      assert.equal(res.status, 500);
      assert.deepEqual(res.body.errors, ['Internal server error; the request was not stored']);
      assert.ok(!res.text.includes('secret'));
      assert.equal(logged.length, 1);
      assert.equal(emitted.length, 1);
      assert.equal(emitted[0]?.[0], thrown);
      assert.equal((emitted[0]?.[1] as { path?: string }).path, '/api/v1/datapoints');
    });

    it('answers a failed read with 500 "Internal server error" (nothing about storing), emitted on the app', async () => {
      const store = new MemoryStore();
      store.metricNames = async () => {
        throw 'not an Error object';
      };
      const app = new Koa();
      app.use(kairosdb({ store }));
      const emitted: unknown[] = [];
      app.on('error', (err: unknown) => emitted.push(err));
      const res = await request(app.callback()).get('/api/v1/metricnames');
      assert.equal(res.status, 500);
      assert.deepEqual(res.body.errors, ['Internal server error']);
      assert.ok(emitted[0] instanceof Error);
      assert.match((emitted[0] as Error).message, /not an Error object/);
    });

    it('lets Koa print a 500 on stderr when the host does not listen for errors', async () => {
      const app = new Koa();
      app.use(kairosdb({ store: failing(new Error('disk on fire')) }));
      const printed: string[] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => void printed.push(args.join(' '));
      try {
        await request(app.callback()).post('/api/v1/datapoints').send(body);
      } finally {
        console.error = original;
      }
      assert.ok(printed.some((line) => line.includes('disk on fire')), printed.join('\n'));
    });

    it('answers 503 with Retry-After when the store is unavailable', async () => {
      const { post } = mount(Koa, { store: failing(new StoreUnavailableError('no hosts', { retryAfter: 5 })) });
      const res = await post(body);
      assert.equal(res.status, 503);
      assert.equal(res.headers['retry-after'], '5');
      assert.deepEqual(res.body.errors, ['The store is unavailable; retry later']);
    });

    it('answers 204 only after the store resolved', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const inner = new MemoryStore();
      const store: Store = wrapStore(inner, { write: async (s: never) => (await gate, inner.write(s)) });
      const { post } = mount(Koa, { store });
      let answered = false;
      const pending = post(body).then((res) => ((answered = true), res));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(answered, false);
      release();
      assert.equal((await pending).status, 204);
      assert.equal(await countPoints(inner), 2);
    });
  });
}

function failing(error: Error): Store {
  const store = new MemoryStore();
  store.write = async () => {
    throw error;
  };
  return store;
}
