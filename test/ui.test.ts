import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import mount from 'koa-mount';
import request from 'supertest';
import { kairosdb, MemoryStore } from '../src/index.js';

describe('the explorer route group (routes.ui)', () => {
  it('is off unless asked for', async () => {
    const app = new Koa();
    app.use(kairosdb({ store: new MemoryStore() }));
    assert.equal((await request(app.callback()).get('/api/v1/ui/')).status, 404);
  });

  it('serves the page and its files with a strict Content-Security-Policy, and nothing else under /ui/', async () => {
    const app = new Koa();
    app.use(kairosdb({ store: new MemoryStore(), routes: { ui: true } }));
    const page = await request(app.callback()).get('/api/v1/ui/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'] ?? '', /^text\/html/);
    assert.match(page.headers['content-security-policy'] ?? '', /default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'/);
    assert.doesNotMatch(page.text, /<script>|<style>|style="|onclick=/, 'no inline script or style');
    for (const [file, type] of [['explorer.js', /javascript/], ['explorer.css', /css/], ['uPlot.iife.min.js', /javascript/], ['uPlot.min.css', /css/]] as const) {
      const res = await request(app.callback()).get(`/api/v1/ui/${file}`);
      assert.equal(res.status, 200, file);
      assert.match(res.headers['content-type'] ?? '', type);
    }
    assert.equal((await request(app.callback()).get('/api/v1/ui/../../package.json')).status, 404);
    assert.equal((await request(app.callback()).get('/api/v1/ui/secret.txt')).status, 404);
  });

  it('redirects /ui to /ui/ under any mount prefix, keeping the query', async () => {
    const app = new Koa();
    app.use(mount('/metrics', kairosdb({ store: new MemoryStore(), routes: { ui: true } })));
    const res = await request(app.callback()).get('/metrics/api/v1/ui?q=%7B%7D');
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, 'ui/?q=%7B%7D');
    assert.equal(new URL(res.headers.location as string, 'http://host/metrics/api/v1/ui?q=%7B%7D').pathname, '/metrics/api/v1/ui/');
    assert.equal((await request(app.callback()).get('/metrics/api/v1/ui/')).status, 200);
  });
});
