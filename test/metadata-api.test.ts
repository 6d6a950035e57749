import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore, type AccessRequest, type KairosdbOptions } from '../src/index.js';

function app(options: Partial<KairosdbOptions> = {}) {
  const koa = new Koa();
  koa.use(async (ctx, next) => {
    ctx.state.org = ctx.get('X-Org') || undefined;
    await next();
  });
  koa.use(kairosdb({ store: new MemoryStore(), ...options }));
  return koa.callback();
}

describe("KairosDB's Metadata API (/metadata/...)", () => {
  it('writes values as text, reads them back, lists service keys and keys, deletes', async () => {
    const server = app();
    const base = '/api/v1/metadata/Metric%20Service';
    assert.equal((await request(server).post(`${base}/disk.available/unit`).type('text').send('MB')).status, 204);
    assert.equal((await request(server).post(`${base}/disk.available/owner`).type('text').send('OPs team ✓')).status, 204);
    assert.equal((await request(server).post(`${base}/foo.throughput/unit`).send('Bytes')).status, 204);
    const value = await request(server).get(`${base}/disk.available/owner`);
    assert.equal(value.status, 200);
    assert.match(value.headers['content-type'] ?? '', /^text\/plain/);
    assert.equal(value.text, 'OPs team ✓');
    assert.deepEqual((await request(server).get(base)).body, { results: ['disk.available', 'foo.throughput'] });
    assert.deepEqual((await request(server).get(`${base}/disk.available`)).body, { results: ['owner', 'unit'] });
    assert.equal((await request(server).delete(`${base}/foo.throughput/unit`)).status, 204);
    assert.deepEqual((await request(server).get(base)).body, { results: ['disk.available'] });
    const missing = await request(server).get(`${base}/disk.available/nope`);
    assert.deepEqual([missing.status, missing.text], [200, '']);
  });

  it('keeps an encoded slash inside its name and refuses bad paths and bodies with a 400', async () => {
    const server = app();
    assert.equal((await request(server).post('/api/v1/metadata/a%2Fb/k/v').send('x')).status, 204);
    assert.deepEqual((await request(server).get('/api/v1/metadata/a%2Fb')).body, { results: ['k'] });
    const tooDeep = await request(server).get('/api/v1/metadata/a/b/c/d');
    assert.equal(tooDeep.status, 400);
    assert.match(tooDeep.body.errors[0], /^Invalid metadata path: 4 parts/);
    assert.equal((await request(server).post('/api/v1/metadata/a/b').send('x')).status, 400);
    assert.equal((await request(server).get('/api/v1/metadata/a//c')).status, 400);
    const binary = await request(server).post('/api/v1/metadata/a/b/c').type('application/octet-stream').send(Buffer.from([0xff, 0xfe]));
    assert.deepEqual([binary.status, binary.body.errors], [400, ['The body is not valid UTF-8']]);
    const big = await request(server).post('/api/v1/metadata/a/b/c').type('text').send('x'.repeat(1024 * 1024 + 1));
    assert.equal(big.status, 413);
  });

  it('gives every tenant its own services, and shows the hook what is asked', async () => {
    const seen: AccessRequest[] = [];
    const server = app({ tenant: (ctx) => ctx.state.org, authorize: (_, r) => void seen.push(r) });
    await request(server).post('/api/v1/metadata/svc/k/v').set('X-Org', 'acme').send('acme value').expect(204);
    await request(server).post('/api/v1/metadata/svc/k/v').set('X-Org', 'other').send('other value').expect(204);
    assert.equal((await request(server).get('/api/v1/metadata/svc/k/v').set('X-Org', 'acme')).text, 'acme value');
    assert.equal((await request(server).get('/api/v1/metadata/svc/k/v').set('X-Org', 'other')).text, 'other value');
    assert.equal((await request(server).get('/api/v1/metadata/svc')).status, 403, 'no tenant, no answer');
    assert.deepEqual(seen[0], { action: 'metadata', operation: 'write', service: 'svc', serviceKey: 'k', key: 'v' });
    assert.deepEqual(seen[2], { action: 'metadata', operation: 'read', service: 'svc', serviceKey: 'k', key: 'v' });
  });

  it('answers 501 for a store without metadata, and is absent with routes.metadataApi false', async () => {
    const store = new MemoryStore();
    const plain = new Koa();
    plain.use(kairosdb({ store: { capabilities: store.capabilities, write: (s) => store.write(s), read: (q) => store.read(q), metricNames: (p) => store.metricNames(p), delete: (q) => store.delete(q), ping: () => store.ping(), close: () => store.close() } }));
    const res = await request(plain.callback()).get('/api/v1/metadata/svc');
    assert.deepEqual([res.status, res.body.errors], [501, ['This store keeps no metadata']]);
    assert.equal((await request(app({ routes: { metadataApi: false } })).get('/api/v1/metadata/svc')).status, 404);
  });
});
