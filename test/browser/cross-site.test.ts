// Issue #29 row 3 in a real browser: a page on another site cannot delete or write through an auto-submitted form,
// while a dashboard origin the host allows queries through CORS (@koa/cors) and may write when listed in allowedOrigins.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import cors from '@koa/cors';
import Koa from 'koa';
import { chromium, type Browser } from 'playwright-core';
import { kairosdb, MemoryStore } from '../../src/index.js';
import { readAll } from '../../src/store-api/conformance.js';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = `${CHROMIUM} is not installed (apt-get install chromium): the cross-site browser tests need it`;

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A page served from its own port; reached as http://localhost:PORT it is another site than http://127.0.0.1:API. */
async function page(html: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(html));
  return { server, origin: `http://localhost:${await listen(server)}` };
}

/** A form whose text/plain body reads as JSON: `{"metrics":[{"name":"victim"}],"start_absolute":0,"x":"="}`. */
const forgedForm = (action: string) => `<!doctype html><body><form method="POST" enctype="text/plain" action="${action}">
<input name='{"metrics":[{"name":"victim"}],"start_absolute":0,"x":"' value='"}'></form>
<script>document.forms[0].submit()</script></body>`;

describe('cross-site requests in headless Chromium (#29 row 3)', { skip: existsSync(CHROMIUM) ? false : process.env.BROWSER_REQUIRED === '1' ? false : SKIP }, () => {
  const store = new MemoryStore();
  let api: string;
  let browser: Browser;
  const servers: Server[] = [];
  let dashboard: { server: Server; origin: string };
  before(async () => {
    if (!existsSync(CHROMIUM)) assert.fail(`BROWSER_REQUIRED=1 but ${SKIP}`);
    dashboard = await page('<!doctype html><title>dashboard</title>');
    const app = new Koa();
    const allowed = [dashboard.origin];
    app.use(cors({ origin: (ctx) => (allowed.includes(ctx.get('Origin')) ? ctx.get('Origin') : '') }));
    app.use(kairosdb({ store, allowedOrigins: allowed }));
    const apiServer = createServer(app.callback());
    api = `http://127.0.0.1:${await listen(apiServer)}`;
    servers.push(apiServer, dashboard.server);
    await store.write([{ metric: 'victim', tags: { h: 'a' }, type: 'long', storage: 'long', ttl: 0, timestamps: [1], values: [1] }]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  after(async () => {
    await browser?.close();
    for (const s of servers) s.close();
  });

  it('a form auto-submitted by another site does not delete the metric (403)', async () => {
    const attacker = await page(forgedForm(`${api}/api/v1/datapoints/delete`));
    servers.push(attacker.server);
    const tab = await browser.newPage();
    const answer = tab.waitForResponse((r) => r.url().endsWith('/datapoints/delete'));
    await tab.goto(attacker.origin);
    assert.equal((await answer).status(), 403);
    assert.equal((await readAll(store, { metric: 'victim' })).length, 1);
    await tab.close();
  });

  it('a form auto-submitted by another site does not write points (403)', async () => {
    const attacker = await page(forgedForm(`${api}/api/v1/datapoints`).replace('"metrics":[{"name":"victim"}],"start_absolute":0', '"name":"forged","tags":{"h":"a"},"timestamp":1,"value":1'));
    servers.push(attacker.server);
    const tab = await browser.newPage();
    const answer = tab.waitForResponse((r) => r.url().endsWith('/api/v1/datapoints'));
    await tab.goto(attacker.origin);
    assert.equal((await answer).status(), 403);
    assert.deepEqual(await store.metricNames(), ['victim']);
    await tab.close();
  });

  it('an allowed dashboard origin queries through CORS and may write', async () => {
    const tab = await browser.newPage();
    await tab.goto(dashboard.origin);
    const result = await tab.evaluate(async (url) => {
      const json = { 'Content-Type': 'application/json' };
      const query = await fetch(`${url}/api/v1/datapoints/query`, { method: 'POST', headers: json, body: JSON.stringify({ start_absolute: 0, metrics: [{ name: 'victim' }] }) });
      const write = await fetch(`${url}/api/v1/datapoints`, { method: 'POST', headers: json, body: JSON.stringify([{ name: 'dash', tags: { h: 'a' }, timestamp: 2, value: 2 }]) });
      return { query: query.status, values: ((await query.json()) as { queries: { results: { values: unknown[] }[] }[] }).queries[0]?.results[0]?.values, write: write.status };
    }, api);
    assert.deepEqual(result, { query: 200, values: [[1, 1]], write: 204 });
    await tab.close();
  });
});
