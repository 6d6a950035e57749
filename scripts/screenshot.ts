// Renders docs/explorer.png: the example server on SQLite in memory with the README's example body, the explorer
// showing archive_file_tracked summed by the hour per host. Prints the page's load time and its bundle size.
// npx tsx scripts/screenshot.ts   (needs /usr/bin/chromium)
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const child = spawn(process.execPath, ['--import', 'tsx', 'example-app/server.ts'], { cwd: root, env: { ...process.env, PORT: '0', SQLITE_PATH: ':memory:', LOG_LEVEL: 'warn' } });
const url = await new Promise<string>((resolve) => {
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk;
    const match = /listening on (http:\/\/localhost:\d+)/.exec(out);
    if (match) resolve(match[1] as string);
  });
});
try {
  const seed = readFileSync(new URL('../test/fixtures/seed-example-body.json', import.meta.url), 'utf8');
  const more = JSON.stringify([{ name: 'archive_file_tracked', tags: { host: 'server2', data_center: 'DC1' }, datapoints: [[1_359_784_900_000, 4.5], [1_359_788_400_000, 7]] }]);
  for (const body of [seed, more]) await fetch(`${url}/api/v1/datapoints`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  const q = { metric: 'archive_file_tracked', range: 'abs', start: 1_359_777_600_000, end: 1_359_799_200_000, tags: {}, aggregator: { name: 'sum', align_sampling: true, align_start_time: true, align_end_time: false, sampling: { value: 1, unit: 'HOURS' } }, groupBy: 'host' };
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  const started = performance.now();
  await page.goto(`${url}/api/v1/ui/?q=${encodeURIComponent(JSON.stringify(q))}`);
  await page.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: { phase?: string } } } }).document.body.dataset.phase === 'ready');
  const loadMs = performance.now() - started;
  await page.screenshot({ path: `${root}docs/explorer.png` });
  await browser.close();
  const files = ['ui/index.html', 'ui/explorer.js', 'ui/explorer.css', 'node_modules/uplot/dist/uPlot.iife.min.js', 'node_modules/uplot/dist/uPlot.min.css'];
  const raw = files.reduce((n, f) => n + statSync(`${root}${f}`).size, 0);
  const gzipped = files.reduce((n, f) => n + gzipSync(readFileSync(`${root}${f}`)).length, 0);
  console.log(`docs/explorer.png written; page ready (query answered, chart drawn) in ${loadMs.toFixed(0)} ms; bundle ${raw} bytes (${gzipped} gzipped) in ${files.length} files`);
} finally {
  child.kill('SIGTERM');
}
