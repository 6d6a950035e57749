// Issue #29 row 3: state-changing requests that a browser marks as coming from another site are refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore } from '../src/index.js';

const point = JSON.stringify([{ name: 'm', tags: { h: 'a' }, timestamp: 1, value: 1 }]);
const deletion = JSON.stringify({ metrics: [{ name: 'm' }], start_absolute: 0 });

function app(allowedOrigins?: string[]) {
  const store = new MemoryStore();
  const koa = new Koa();
  koa.use(kairosdb({ store, ...(allowedOrigins ? { allowedOrigins } : {}) }));
  return request(koa.callback());
}

type Row = [title: string, method: 'post' | 'delete' | 'get', path: string, body: string | undefined, headers: Record<string, string>, status: number];
const h = (origin: string | undefined, site: string | undefined) => ({ ...(origin ? { Origin: origin } : {}), ...(site ? { 'Sec-Fetch-Site': site } : {}) });
const own = 'http://127.0.0.1';

describe('cross-site requests (#29 row 3)', () => {
  const rows: Row[] = [
    ['a client without Origin or Sec-Fetch-Site writes', 'post', '/api/v1/datapoints', point, {}, 204],
    ['a cross-site page cannot write', 'post', '/api/v1/datapoints', point, h('https://evil.example', 'cross-site'), 403],
    ['a cross-site page cannot delete', 'post', '/api/v1/datapoints/delete', deletion, h('https://evil.example', 'cross-site'), 403],
    ['a cross-site page cannot DELETE /metric', 'delete', '/api/v1/metric/m', undefined, h('https://evil.example', 'cross-site'), 403],
    ['a cross-site page cannot write metadata', 'post', '/api/v1/metadata/s/k/x', 'v', h('https://evil.example', 'cross-site'), 403],
    ['Sec-Fetch-Site cross-site without Origin', 'post', '/api/v1/datapoints', point, h(undefined, 'cross-site'), 403],
    ['a foreign Origin without Sec-Fetch-Site (older browsers)', 'post', '/api/v1/datapoints', point, h('https://evil.example', undefined), 403],
    ['a same-site page of another origin', 'post', '/api/v1/datapoints', point, h('https://other.example.com', 'same-site'), 403],
    ['Origin: null (a sandboxed page)', 'post', '/api/v1/datapoints', point, h('null', 'cross-site'), 403],
    ['the server\'s own pages write', 'post', '/api/v1/datapoints', point, h(own, 'same-origin'), 204],
    ['same-origin behind a TLS proxy (Koa sees http)', 'post', '/api/v1/datapoints', point, h('https://127.0.0.1', 'same-origin'), 204],
    ['a cross-site page may query (reads; CORS decides who reads the answer)', 'post', '/api/v1/datapoints/query', JSON.stringify({ start_absolute: 0, metrics: [{ name: 'm' }] }), h('https://evil.example', 'cross-site'), 200],
    ['a cross-site GET', 'get', '/api/v1/metricnames', undefined, h('https://evil.example', 'cross-site'), 200],
  ];
  for (const [title, method, path, body, headers, status] of rows) {
    it(`${title} → ${status}`, async () => {
      let req = app()[method](path).set(headers);
      if (body !== undefined) req = req.set('Content-Type', path.includes('metadata') ? 'text/plain' : 'application/json').send(body);
      const res = await req;
      assert.equal(res.status, status, res.text);
      if (status === 403) assert.match(res.body.errors[0], /^Cross-site request refused: a page from .* may not write, delete or change metadata here; list its origin in the allowedOrigins option to allow it$/);
    });
  }

  it('an origin in allowedOrigins may write; others are still refused', async () => {
    const client = app(['https://dash.example.com']);
    assert.equal((await client.post('/api/v1/datapoints').set(h('https://dash.example.com', 'cross-site')).set('Content-Type', 'application/json').send(point)).status, 204);
    assert.equal((await client.post('/api/v1/datapoints').set(h('https://evil.example', 'cross-site')).set('Content-Type', 'application/json').send(point)).status, 403);
  });

  it('allowedOrigins must hold origins', () => {
    const store = new MemoryStore();
    assert.throws(() => kairosdb({ store, allowedOrigins: ['https://dash.example.com/path'] }), /options.allowedOrigins must be an array of origins/);
    assert.throws(() => kairosdb({ store, allowedOrigins: 'https://dash.example.com' as unknown as string[] }), /options.allowedOrigins must be an array of origins/);
    assert.doesNotThrow(() => kairosdb({ store, allowedOrigins: ['*', 'http://localhost:3000'] }));
  });
});
