// Reads from a grown store, through HTTP, as the issue measured them: a raw read of one long series and a `sum` by
// one hour over it, on the example middleware with SQLite, memory or Cassandra (`npx tsx bench/reads.ts sqlite 1700000
// [RAW_POINTS]`; Cassandra: CASSANDRA_CONTACT_POINTS=127.0.0.1, its chunks compacted before the reads).
// Prints the time of each query, the bytes answered and the server's RSS before and at its peak.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';

const kind = process.argv[2] ?? 'sqlite';
const total = Number(process.argv[3] ?? 1_700_000);
/** Points of the raw read (the first ones of the series; all by default). */
const rawPoints = Number(process.argv[4] ?? total);
const T0 = Date.UTC(2026, 0, 1);
const child = fork(fileURLToPath(new URL('./koa-server.ts', import.meta.url)), [kind], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port: number = await new Promise((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) * 1024;

function post(path: string, body: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-type': 'application/json' } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

for (let at = 0; at < total; at += 10_000) {
  const n = Math.min(10_000, total - at);
  const datapoints = Array.from({ length: n }, (_, i) => [T0 + (at + i) * 1000, Math.round(Math.sin((at + i) / 100) * 10_000) / 100]);
  const { status } = await post('/api/v1/datapoints', JSON.stringify([{ name: 'reads', tags: { host: 'a' }, datapoints }]));
  if (status !== 204) throw new Error(`write answered ${status}`);
}
child.send('footprint'); // SQLite compacts here; both report bytes per point
const footprint = await new Promise<{ bytesPerPoint?: number } | undefined>((resolve) => child.once('message', (m: { footprint?: { bytesPerPoint: number } }) => resolve(m.footprint)));

async function measure(label: string, metric: object, points = total) {
  const before = rss();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rss())), 5);
  const started = performance.now();
  const answer = await post('/api/v1/datapoints/query', JSON.stringify({ start_absolute: T0, end_absolute: T0 + points * 1000 - 1, metrics: [{ name: 'reads', ...metric }] }));
  const ms = performance.now() - started;
  clearInterval(timer);
  peak = Math.max(peak, rss());
  const mb = (n: number) => (n / 2 ** 20).toFixed(0);
  console.log(`${kind} ${label}: ${answer.status} in ${ms.toFixed(0)} ms, ${mb(answer.bytes)} MB answered, RSS ${mb(before)} → peak ${mb(peak)} MB (+${mb(peak - before)})`);
}
console.log(`${kind}: ${total.toLocaleString('en-US')} points in one series, ${footprint?.bytesPerPoint?.toFixed(1) ?? '?'} B/point`);
// Each query three times: the first also warms the code paths.
if (kind === 'cassandra') console.log(`cassandra: compacted ${JSON.stringify(await new Promise((resolve) => { child.once('message', (m: { compacted?: unknown }) => resolve(m.compacted)); child.send('compact'); }))}`);
for (let round = 1; round <= 3; round++) await measure(`raw read of ${rawPoints.toLocaleString('en-US')} (${round})`, {}, rawPoints);
for (let round = 1; round <= 3; round++) await measure(`sum by 1 hour (${round})`, { aggregators: [{ name: 'sum', sampling: { value: 1, unit: 'hours' } }] });
child.kill();
