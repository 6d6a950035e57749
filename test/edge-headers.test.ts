// Issue #29 rows 6–10: a relative redirect, nosniff everywhere, 400 for non-string tenant tags, `authorize` on the
// informational routes, and caching that fits answers behind the host's auth.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore, type AccessRequest, type KairosdbOptions } from '../src/index.js';

function app(options: Partial<KairosdbOptions> = {}) {
  const koa = new Koa();
  koa.silent = true;
  const errors: Error[] = [];
  koa.on('error', (e: Error) => errors.push(e));
  koa.use(kairosdb({ store: new MemoryStore(), routes: { ui: true }, ...options }));
  return { server: koa.callback(), koa, errors };
}

describe('the HTTP edge (#29 rows 6–10)', () => {
  it('row 6: an absolute-form request target cannot make /ui redirect to another host', async () => {
    const server = app().koa.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.end('GET http://evil.example/api/v1/ui HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    let text = '';
    for await (const chunk of socket) text += chunk;
    server.close();
    assert.match(text, /^HTTP\/1.1 302/);
    assert.match(text, /\r\nLocation: ui\/\r\n/i);
    assert.doesNotMatch(text, /evil\.example/);
  });

  it('row 7: every answer of the mount carries X-Content-Type-Options: nosniff (metadata values, errors, 405s)', async () => {
    const { server } = app();
    await request(server).post('/api/v1/metadata/s/k/js').type('text').send('alert(1)');
    for (const res of [
      await request(server).get('/api/v1/metadata/s/k/js'),
      await request(server).get('/api/v1/version'),
      await request(server).post('/api/v1/datapoints').send('nope'),
      await request(server).put('/api/v1/datapoints'),
      await request(server).get('/api/v1/ui/'),
    ]) assert.equal(res.headers['x-content-type-options'], 'nosniff', `${res.status} ${res.text.slice(0, 80)}`);
  });

  it('row 8: a tenant tag that is no tag value answers 400 on a tenant-bound mount, as on any mount', async () => {
    for (const options of [{}, { tenant: () => 'acme' }]) {
      const { server, errors } = app(options);
      const res = await request(server).post('/api/v1/datapoints').send([{ name: 'm', tags: { tenant: { toString: 1 } }, timestamp: 1, value: 1 }]);
      assert.equal(res.status, 400, res.text);
      assert.deepEqual(res.body.errors, ['metric[0](name=m).tag[tenant].value must be a string, number or boolean.']);
      assert.deepEqual(errors, []);
    }
    const { server } = app({ tenant: () => 'acme' });
    assert.equal((await request(server).post('/api/v1/datapoints').send([{ name: 'm', tags: { tenant: 'other' }, timestamp: 1, value: 1 }])).status, 403);
    assert.equal((await request(server).post('/api/v1/datapoints').send([{ name: 'm', tags: { tenant: 'acme', h: 1 }, timestamp: 1, value: 1 }])).status, 204);
  });

  it('row 9: a caller the authorize hook refuses gets 403 on /features, /version, /health/* and /ui/*; publicHealth keeps health open', async () => {
    const seen: AccessRequest[] = [];
    const { server } = app({ authorize: (_ctx, r) => (seen.push(r), false) });
    for (const path of ['/features', '/features/aggregators', '/version', '/health/check', '/health/status', '/ui/', '/ui/explorer.js']) {
      const res = await request(server).get(`/api/v1${path}`);
      assert.equal(res.status, 403, path);
    }
    assert.deepEqual(seen.map((r) => (r.action === 'info' ? r.route : r.action)), ['/features', '/features/{name}', '/version', '/health/check', '/health/status', '/ui/', '/ui/explorer.js']);
    const open = app({ authorize: () => false, publicHealth: true }).server;
    assert.equal((await request(open).get('/api/v1/health/check')).status, 204);
    assert.equal((await request(open).get('/api/v1/version')).status, 403);
    assert.throws(() => kairosdb({ store: new MemoryStore(), publicHealth: 'yes' as unknown as boolean }), /options.publicHealth must be true or false/);
  });

  it('row 10: API answers are not stored by caches; explorer files are private and revalidated by ETag', async () => {
    const { server } = app();
    for (const res of [await request(server).get('/api/v1/metricnames'), await request(server).post('/api/v1/datapoints/query').send({ start_absolute: 0, metrics: [{ name: 'm' }] })]) {
      assert.equal(res.headers['cache-control'], 'no-store');
    }
    const asset = await request(server).get('/api/v1/ui/explorer.js');
    assert.equal(asset.status, 200);
    assert.equal(asset.headers['cache-control'], 'private, no-cache');
    assert.match(asset.headers.etag ?? '', /^"[\w-]{22}"$/);
    const again = await request(server).get('/api/v1/ui/explorer.js').set('If-None-Match', asset.headers.etag as string);
    assert.equal(again.status, 304);
  });
});
