import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const SKIP = `${CHROMIUM} is not installed (apt-get install chromium): the explorer's browser tests need it`;
const seed = readFileSync(new URL('../fixtures/seed-example-body.json', import.meta.url), 'utf8');
/** 2013-02-02 00:00 → 2013-02-03 00:00 UTC: the example body's day. */
const DAY = { start: 1_359_763_200_000, end: 1_359_849_600_000 };

/** Starts the example server (SQLite in memory) and pushes the example body plus a second host. */
async function exampleServer(env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'example-app/server.ts'], { cwd: root, env: { ...process.env, PORT: '0', SQLITE_PATH: ':memory:', LOG_LEVEL: 'warn', ...env } });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /listening on (http:\/\/localhost:\d+)/.exec(out);
      if (match) resolve((match[1] as string).replace('localhost', '127.0.0.1'));
    });
    child.once('exit', (code) => reject(new Error(`example server exited with ${code}`)));
  });
  for (const body of [seed, JSON.stringify([{ name: 'archive_file_tracked', tags: { host: 'server2', data_center: 'DC1' }, datapoints: [[1_359_788_400_000, 7]] }])]) {
    const res = await fetch(`${url}/api/v1/datapoints`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assert.equal(res.status, 204);
  }
  return { child, url };
}

/** The page's globals, typed loosely: this file is checked without the DOM library. */
type PageGlobals = { explorer: { data(): (number | null)[][]; labels(): string[] }; document: { body: { dataset: { phase?: string } } } };
const globals = () => globalThis as unknown as PageGlobals;
const chartData = (page: Page) => page.evaluate(() => (globalThis as unknown as PageGlobals).explorer.data());
const chartLabels = (page: Page) => page.evaluate(() => (globalThis as unknown as PageGlobals).explorer.labels());
const settled = (page: Page) => page.waitForFunction(() => ['ready', 'error', 'idle'].includes((globalThis as unknown as PageGlobals).document.body.dataset.phase ?? ''));
const ready = (page: Page) => page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.body.dataset.phase === 'ready');
void globals;

describe('the explorer page in headless Chromium', { skip: existsSync(CHROMIUM) ? false : process.env.BROWSER_REQUIRED === '1' ? false : SKIP }, () => {
  let server: { child: ChildProcess; url: string };
  let browser: Browser;
  let page: Page;
  before(async () => {
    if (!existsSync(CHROMIUM)) assert.fail(`BROWSER_REQUIRED=1 but ${SKIP}`);
    server = await exampleServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage();
    page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
  });
  after(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
  });

  it('charts the sum by the hour of a picked metric: one line, the two hourly sums', async () => {
    await page.goto(`${server.url}/api/v1/ui/`);
    await settled(page);
    await page.fill('#metric', 'archive_file_tracked');
    await page.selectOption('#range', 'abs');
    await page.fill('#start', await page.evaluate((ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 19), DAY.start));
    await page.fill('#end', await page.evaluate((ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 19), DAY.end));
    await page.selectOption('#aggregator', 'sum');
    await page.fill('[data-path="sampling.value"]', '1');
    await page.selectOption('[data-path="sampling.unit"]', 'HOURS');
    await page.click('#run');
    await settled(page);
    const [xs, ys] = await chartData(page);
    assert.deepEqual(xs, [1_359_788_300_000, 1_359_788_400_000]);
    assert.deepEqual(ys, [13.2, 153.1]);
    assert.deepEqual(await chartLabels(page), ['data_center=DC1, host=server1|server2']);
  });

  it('groups by host: one line per host', async () => {
    await page.selectOption('#group-by', 'host');
    await page.click('#run');
    await settled(page);
    assert.deepEqual(await chartLabels(page), ['host=server1', 'host=server2']);
    const data = await chartData(page);
    assert.equal(data.length, 3);
    assert.deepEqual(data[2], [null, 7]);
  });

  it("keeps the query across a reload (it lives in the URL)", async () => {
    await page.reload();
    await ready(page);
    assert.equal(await page.inputValue('#metric'), 'archive_file_tracked');
    assert.equal(await page.inputValue('#group-by'), 'host');
    assert.deepEqual(await chartLabels(page), ['host=server1', 'host=server2']);
  });

  it('zooms: a range dragged on the chart becomes the absolute window and the query runs again', async () => {
    const over = await page.locator('#chart .u-over').boundingBox();
    assert.ok(over, 'the chart has a drag area');
    await page.mouse.move(over.x + 2, over.y + over.height / 2);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width / 2, over.y + over.height / 2, { steps: 5 });
    await page.mouse.up();
    await ready(page);
    const q = JSON.parse(new URL(page.url()).searchParams.get('q') ?? '{}') as { range: string; start: number; end: number };
    assert.equal(q.range, 'abs');
    assert.ok(q.start >= 1_359_788_300_000 - 1 && q.end < 1_359_788_400_000, `window ${q.start}..${q.end}`);
    const [xs] = await chartData(page);
    assert.deepEqual(xs, [1_359_788_300_000], 'only the first range is left in the zoomed window');
  });

  it("shows the API's 400 text for a bad aggregator parameter, and no longer the previous answer", async () => {
    assert.notDeepEqual(await chartData(page), [], 'a chart from the query before');
    await page.selectOption('#aggregator', 'percentile');
    await page.fill('[data-path="percentile"]', '2');
    await page.click('#run');
    await settled(page);
    assert.equal(await page.textContent('#error'), 'query.metric[0].aggregators[0].percentile must be greater than 0 and at most 1');
    assert.equal(await page.isVisible('#error'), true);
    assert.deepEqual(await chartData(page), [], 'the previous chart is gone');
    assert.equal(await page.locator('#table tbody tr').count(), 0, 'the previous table is gone');
  });

  it('says a parameter without a default needs a value before sending (an empty divisor)', async () => {
    await page.selectOption('#aggregator', 'div');
    await page.fill('[data-path="divisor"]', '');
    await page.click('#run');
    await settled(page);
    assert.equal(await page.textContent('#error'), 'Divisor: enter a value (the div aggregator needs it).');
  });

  it('samples a newly picked sum in ~200 buckets of its range (not 1 ms), and counts points in words', async () => {
    await page.selectOption('#range', '1d');
    await page.selectOption('#aggregator', '');
    await page.selectOption('#aggregator', 'sum');
    assert.equal(await page.inputValue('[data-path="sampling.value"]'), '15');
    assert.equal(await page.inputValue('[data-path="sampling.unit"]'), 'MINUTES');
    await page.selectOption('#range', '30d');
    await page.selectOption('#aggregator', 'avg');
    assert.equal(await page.inputValue('[data-path="sampling.value"]'), '6');
    assert.equal(await page.inputValue('[data-path="sampling.unit"]'), 'HOURS');
    await page.goto(`${server.url}/api/v1/ui/?q=${encodeURIComponent(JSON.stringify({ metric: 'archive_file_search', range: 'abs', start: DAY.start, end: DAY.end, tags: {}, aggregator: null, groupBy: '' }))}`);
    await ready(page);
    assert.equal(await page.textContent('#status'), '1 point read');
  });

  it('shows text series in the table, not in the chart, and sends a strict Content-Security-Policy', async () => {
    await fetch(`${server.url}/api/v1/datapoints`, { method: 'POST', body: JSON.stringify([{ name: 'notes', tags: { h: 'a' }, datapoints: [[1_359_788_400_000, 'hello']] }]) });
    const response = await page.goto(`${server.url}/api/v1/ui/?q=${encodeURIComponent(JSON.stringify({ metric: 'notes', range: 'abs', start: DAY.start, end: DAY.end, tags: {}, aggregator: null, groupBy: '' }))}`);
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'; style-src 'self'/);
    await ready(page);
    assert.deepEqual(await chartData(page), []);
    assert.deepEqual(await page.$$eval('#table tbody td:last-child', (cells) => cells.map((c) => c.textContent)), ['hello']);
    assert.equal(await page.textContent('#note'), '1 series of type text is listed in the table below, not drawn (the chart draws numbers).');
    assert.equal(await page.isVisible('#note'), true);
  });
});

describe('the roll-ups page in headless Chromium', { skip: existsSync(CHROMIUM) ? false : process.env.BROWSER_REQUIRED === '1' ? false : SKIP }, () => {
  it("rolls up the explorer's query: created from it, listed with its status once the runner executed it, deleted; a query without a range aggregator shows the API's 400 text", async () => {
    if (!existsSync(CHROMIUM)) assert.fail(`BROWSER_REQUIRED=1 but ${SKIP}`);
    const server = await exampleServer();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
      const q = { metric: 'archive_file_tracked', range: 'abs', start: DAY.start, end: DAY.end, tags: {}, aggregator: { name: 'sum', sampling: { value: 1, unit: 'HOURS' } }, groupBy: 'host' };
      await page.goto(`${server.url}/api/v1/ui/?q=${encodeURIComponent(JSON.stringify(q))}`);
      await settled(page);
      await page.click('#rollup-link');
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.body.dataset.phase === 'ready');
      assert.equal(await page.inputValue('#save-as'), 'archive_file_tracked.rollup');
      await page.fill('#name', 'hourly tracked');
      await page.click('#create button[type=submit]');
      await page.waitForSelector('#tasks tbody tr');
      const cells = () => page.$$eval('#tasks tbody tr td', (tds) => tds.map((td) => td.textContent));
      assert.deepEqual((await cells()).slice(0, 3), ['hourly tracked', 'archive_file_tracked.rollup', '1 minutes']);
      const tasks = (await (await fetch(`${server.url}/api/v1/rollups`)).json()) as { id: string; rollups: { query: { metrics: { group_by: unknown }[] } }[] }[];
      assert.deepEqual(tasks[0]?.rollups[0]?.query.metrics[0]?.group_by, [{ name: 'tag', tags: ['host'] }], "the explorer's query, as it was");
      // The example server runs roll-ups (a poll every 5 s); the page refreshes statuses every 5 s.
      await page.waitForFunction(() => !['', 'not run yet'].includes((globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector('#tasks tbody td:nth-child(4)')?.textContent ?? ''), undefined, { timeout: 20_000 });
      assert.match((await cells())[3] ?? '', /^\d\d \w{3} \d{4} \d\d:\d\d:\d\d [AP]M$/);
      await page.click('#tasks tbody button');
      await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('#tasks tbody tr').length === 0);
      assert.deepEqual(await (await fetch(`${server.url}/api/v1/rollups`)).json(), []);

      const raw = { start_relative: { value: 1, unit: 'days' }, metrics: [{ name: 'archive_file_tracked' }] };
      await page.goto(`${server.url}/api/v1/ui/rollups.html?query=${encodeURIComponent(JSON.stringify(raw))}`);
      await page.fill('#name', 'raw');
      await page.click('#create button[type=submit]');
      await page.waitForSelector('#error:not([hidden])');
      assert.equal(await page.textContent('#error'), "rollups[0].query.metric[0].aggregators must include a range aggregator (one with a sampling, e.g. sum): its sampling is the roll-up's period");
    } finally {
      await browser.close();
      server.child.kill('SIGTERM');
    }
  });
});

describe("the explorer charts the mount's own statistics", { skip: existsSync(CHROMIUM) ? false : process.env.BROWSER_REQUIRED === '1' ? false : SKIP }, () => {
  it('shows the request count written by statistics, one line per route', async () => {
    if (!existsSync(CHROMIUM)) assert.fail(`BROWSER_REQUIRED=1 but ${SKIP}`);
    const server = await exampleServer({ STATISTICS_INTERVAL_MS: '1000' });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      // The two pushes of exampleServer, then a report: kairosdb.http.request_count{route=/datapoints} = 2.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const page = await browser.newPage();
      page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
      const now = Date.now();
      const q = { metric: 'kairosdb.http.request_count', range: 'abs', start: now - 3_600_000, end: now + 60_000, tags: { route: ['/datapoints'] }, aggregator: null, groupBy: 'status' };
      await page.goto(`${server.url}/api/v1/ui/?q=${encodeURIComponent(JSON.stringify(q))}`);
      await ready(page);
      assert.deepEqual(await chartLabels(page), ['status=204']);
      const [, counts] = await chartData(page);
      assert.equal((counts ?? []).reduce((sum: number, n) => sum + (n ?? 0), 0), 2);
    } finally {
      await browser.close();
      server.child.kill('SIGTERM');
    }
  });
});
