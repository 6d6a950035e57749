// npm run bench:cardinality [-- --series 1000000] [-- --stores memory,sqlite,cassandra]: issue #28's target rows
// (cassandra: a node at CASSANDRA_CONTACT_POINTS, default 127.0.0.1, a keyspace of its own per run). For each
// store: the ingest of N new series (one metric, tags id (unique) and host (97 values), 10,000 new series a request,
// through a tenant-bound mount as tenant B), then the queries of one series, tags, a sum over one host, metric names,
// the landing page; 100,000 metrics; SQLite after a restart. Each row: time, the server's worst event-loop delay, RSS;
// the ingest also how often the loop was held over 50 ms (BENCH_STALLS=1: the server prints each such stretch).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import snappy from 'snappy';
import { ProtobufWriter } from '../src/protocols/protobuf.js';

const { values } = parseArgs({ options: { series: { type: 'string', default: '1000000' }, stores: { type: 'string', default: 'memory,sqlite' } } });
const total = Number(values.series);
/** Node flags for the server (e.g. BENCH_SERVER_FLAGS='--trace-gc' or '--cpu-prof'), to see where the event loop waits. */
const serverFlags = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
const PER_REQUEST = 10_000;
const DAY = 86_400_000;
const T = Date.now() - DAY / 2;

interface Server {
  child: ChildProcess;
  url: string;
}

function start(kind: string, path?: string): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./cardinality-server.ts', import.meta.url)), [kind, ...(path ? [path] : [])], { execArgv: ['--import', 'tsx', ...serverFlags], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve) => child.once('message', (m: { port: number }) => resolve({ child, url: `http://127.0.0.1:${m.port}` })));
}

function serverState(server: Server): Promise<{ delayMs: number; rssMb: number; stalls: number }> {
  return new Promise((resolve) => {
    server.child.once('message', resolve);
    server.child.send('delay');
  });
}

async function timed(server: Server, label: string, request: () => Promise<Response>): Promise<void> {
  await serverState(server);
  const started = performance.now();
  let status = 0;
  let text = '';
  try {
    const res = await request();
    status = res.status;
    text = await res.text();
  } catch (error) {
    text = (error as Error).message;
  }
  const ms = performance.now() - started;
  const { delayMs, rssMb } = await serverState(server);
  console.log(`  ${label.padEnd(58)} ${String(status).padStart(3)} in ${ms.toFixed(1).padStart(8)} ms; loop ≤ ${delayMs.toFixed(0).padStart(5)} ms; RSS ${rssMb.toFixed(0)} MB; ${text.replace(/\s+/g, ' ').slice(0, 60)}`);
}

/** Each request gives up after this long (the row then says so). */
const LIMIT_MS = 120_000;
const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers, signal: AbortSignal.timeout(LIMIT_MS) });
const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url + path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(LIMIT_MS) });
/** A Prometheus remote read of one query over the bench's day, with matchers [type, name, value] (0 =, 2 =~). */
function remoteRead(url: string, matchers: [number, string, string][]): Promise<Response> {
  const w = new ProtobufWriter();
  w.message(1, (q) => {
    q.int64(1, T - DAY).int64(2, T + DAY);
    for (const [type, name, value] of matchers) q.message(3, (m) => m.int64(1, type).string(2, name).string(3, value));
  });
  const body = snappy.compressSync(w.finish());
  return fetch(`${url}/api/v1/read`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' }, body, signal: AbortSignal.timeout(LIMIT_MS) });
}
const query = (url: string, metric: object, path = '/api/v1/datapoints/query', headers: Record<string, string> = {}) => post(url, path, { start_absolute: T - DAY, end_absolute: T + DAY, metrics: [metric] }, headers);

async function ingest(server: Server): Promise<void> {
  let worst = 0;
  let worstLoop = 0;
  let stalls = 0;
  const started = performance.now();
  for (let i = 0; i < total; i += PER_REQUEST) {
    const body = Array.from({ length: PER_REQUEST }, (_, k) => ({ name: 'card', tags: { id: String(i + k), host: `h${(i + k) % 97}` }, timestamp: T, value: i + k }));
    await serverState(server);
    const t = performance.now();
    const res = await post(server.url, '/t/datapoints', body, { 'X-Tenant': 'B' });
    if (res.status !== 204) throw new Error(`ingest: ${res.status} ${await res.text()}`);
    worst = Math.max(worst, performance.now() - t);
    const state = await serverState(server);
    worstLoop = Math.max(worstLoop, state.delayMs);
    stalls += state.stalls;
  }
  const seconds = (performance.now() - started) / 1000;
  const { rssMb } = await serverState(server);
  console.log(`  ingest of ${total.toLocaleString('en')} new series: ${Math.round(total / seconds).toLocaleString('en')} series/s; worst request ${worst.toFixed(0)} ms; loop ≤ ${worstLoop.toFixed(0)} ms, held over 50 ms ${stalls} times; RSS ${rssMb.toFixed(0)} MB`);
}

async function queries(server: Server): Promise<void> {
  const { url } = server;
  await timed(server, 'query one series by tag (id=7)', () => query(url, { name: 'card', tags: { id: ['7'] } }));
  await timed(server, 'the same query again', () => query(url, { name: 'card', tags: { id: ['7'] } }));
  await timed(server, 'query another series by tag (id=123456)', () => query(url, { name: 'card', tags: { id: ['123456'] } }));
  await timed(server, 'query/tags of one series (id=7)', () => query(url, { name: 'card', tags: { id: ['7'] } }, '/api/v1/datapoints/query/tags'));
  await timed(server, `sum by 1 day over one host (~${Math.round(total / 97).toLocaleString('en')} series)`, () => query(url, { name: 'card', tags: { host: ['h7'] }, aggregators: [{ name: 'sum', sampling: { value: 1, unit: 'days' } }] }));
  await timed(server, 'query every series of the metric (no tags; maxQuerySeries)', () => query(url, { name: 'card' }));
  await timed(server, 'GET /metricnames', () => get(`${url}/api/v1/metricnames`));
  await timed(server, 'GET /metricnames?prefix=zzz', () => get(`${url}/api/v1/metricnames?prefix=zzz`));
  await timed(server, 'the landing page /', () => get(`${url}/`));
  await timed(server, 'GET /api/v1/metrics (the store figures)', () => get(`${url}/api/v1/metrics`));
  await timed(server, 'remote read {__name__="card", id="7"}', () => remoteRead(url, [[0, '__name__', 'card'], [0, 'id', '7']]));
  await timed(server, 'remote read {__name__="card", id=~"7|8"}', () => remoteRead(url, [[0, '__name__', 'card'], [2, 'id', '7|8']]));
  await timed(server, 'remote read {__name__="card", id=~"7.*"} (maxQuerySeries)', () => remoteRead(url, [[0, '__name__', 'card'], [2, 'id', '7.*']]));
  const lines = Array.from({ length: 10_000 }, (_, k) => `influx,id=${total + k},host=h${k % 97} v=${k} ${T}`).join('\n');
  await timed(server, 'influx: 10,000 new series (POST /api/v2/write)', () => fetch(`${url}/api/v1/api/v2/write?precision=ms`, { method: 'POST', body: lines, signal: AbortSignal.timeout(LIMIT_MS) }));
  await post(url, '/t/datapoints', [{ name: 'card', tags: { id: 'a1' }, timestamp: T, value: 1 }], { 'X-Tenant': 'A' });
  await timed(server, "tenant A's one-series query (tenant B holds the rest)", () => query(url, { name: 'card', tags: { id: ['a1'] } }, '/t/datapoints/query', { 'X-Tenant': 'A' }));
  await timed(server, "tenant A's /metricnames", () => get(`${url}/t/metricnames`, { 'X-Tenant': 'A' }));
}

async function manyMetrics(server: Server): Promise<void> {
  for (let i = 0; i < 100_000; i += PER_REQUEST) {
    const res = await post(server.url, '/api/v1/datapoints', Array.from({ length: PER_REQUEST }, (_, k) => ({ name: `metric.${String(i + k).padStart(6, '0')}`, tags: { h: 'a' }, timestamp: T, value: 1 })));
    if (res.status !== 204) throw new Error(`metrics: ${res.status}`);
  }
  await timed(server, 'with 100,000 metrics: GET /metricnames', () => get(`${server.url}/api/v1/metricnames`));
  await timed(server, 'with 100,000 metrics: GET /metricnames?prefix=zzz', () => get(`${server.url}/api/v1/metricnames?prefix=zzz`));
}

for (const kind of values.stores.split(',')) {
  const dir = mkdtempSync(join(tmpdir(), 'koa-kairosdb-cardinality-'));
  const path = join(dir, 'metrics.db');
  console.log(`${kind}, ${total.toLocaleString('en')} series:`);
  let server = await start(kind, path);
  await ingest(server);
  await queries(server);
  await manyMetrics(server);
  if (kind === 'sqlite') {
    server.child.kill('SIGKILL');
    server = await start(kind, path);
    await timed(server, 'after a restart: the first one-series query', () => query(server.url, { name: 'card', tags: { id: ['7'] } }));
  }
  // Stopped, not killed: a profile (BENCH_SERVER_FLAGS='--cpu-prof') is written as the process exits.
  await new Promise((resolve) => {
    server.child.once('exit', resolve);
    server.child.kill('SIGTERM');
  });
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
