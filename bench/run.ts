// npm run bench [-- --quick] [-- --json]: the middleware against the JSON.parse bound, alternating A B A B…
import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import snappy from 'snappy';
import { influxLines, manyMetrics, newPoints, oneMetric, openTsdbPoints, remoteWriteRequest, singles } from './bodies.js';

const quick = process.argv.includes('--quick');
/** Only the growing-store rows (W1, W2): `--stores-only`. */
const storesOnly = process.argv.includes('--stores-only');
const asJson = process.argv.includes('--json');
const rounds = quick ? 1 : 3;
const seconds = quick ? 1.25 : 5;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

interface Shape {
  id: string;
  label: string;
  body: Buffer;
  /** Bodies to send in turn instead of `body`. */
  bodies?: Buffer[];
  /** A new body for every request (new points), instead of `body`. */
  next?: () => Buffer;
  points: number;
  headers: Record<string, string>;
  /** Connection counts to measure. */
  connections?: number[];
  /** Path below the mount (another protocol's route). @default '/datapoints' */
  path?: string;
  /** The shape whose body the bound parses (another protocol's row is a ratio to JSON shape (b)'s bound). */
  boundShape?: Shape;
}

/** (b) with tag sets the middleware has not kept: 32 bodies of 1,000 distinct hosts each, in turn (past the 16,384 kept). */
const unseenTags = Array.from({ length: 32 }, (_, i) => Buffer.from(manyMetrics(1_000, 10, `b${i}-h`)));

const shapes: Shape[] = [
  { id: 'a', label: '1 metric × 10,000 points', body: Buffer.from(oneMetric()), points: 10_000, headers: {} },
  { id: 'b', label: '1,000 metrics × 10 points, 3 tags', body: Buffer.from(manyMetrics()), points: 10_000, headers: {} },
  { id: 'c', label: '10,000 single-point metrics', body: Buffer.from(singles()), points: 10_000, headers: {} },
  { id: 'd', label: '(a) gzipped', body: gzipSync(oneMetric()), points: 10_000, headers: { 'content-encoding': 'gzip' } },
  { id: 'b-new', label: '(b), tag sets never seen before', body: unseenTags[0] as Buffer, bodies: unseenTags, points: 10_000, headers: {}, connections: [8] },
];
/** Shape (b)'s points in the other protocols, each a ratio to shape (b)'s JSON bound (8 connections). */
const protocolShapes: Shape[] = [
  { id: 'influx', label: '(b) as Influx lines', body: Buffer.from(influxLines()), points: 10_000, headers: { 'content-type': 'text/plain' }, path: '/api/v2/write?precision=ms', boundShape: shapes[1] as Shape, connections: [8] },
  { id: 'otsdb', label: '(b) as OpenTSDB /api/put', body: Buffer.from(openTsdbPoints()), points: 10_000, headers: {}, path: '/api/put', boundShape: shapes[1] as Shape, connections: [8] },
  { id: 'prw', label: '(b) as Prometheus remote write', body: snappy.compressSync(remoteWriteRequest()), points: 10_000, headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' }, path: '/write', boundShape: shapes[1] as Shape, connections: [8] },
];

interface Server {
  child: ChildProcess;
  port: number;
}

function start(script: string, args: string[] = []): Promise<Server> {
  const child = fork(here(script), args, { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
}

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

async function load(port: number, shape: Shape, connections: number) {
  let sent = 0;
  const { bodies, next } = shape;
  const result = await autocannon({
    ...(bodies && { requests: [{ setupRequest: (request: object) => ({ ...request, body: bodies[sent++ % bodies.length] }) }] }),
    ...(next && { requests: [{ setupRequest: (request: object) => ({ ...request, body: next() }) }] }),
    url: `http://127.0.0.1:${port}/api/v1${shape.path ?? '/datapoints'}`,
    method: 'POST',
    body: shape.body,
    headers: { 'content-type': 'application/json', ...shape.headers },
    connections,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`port ${port}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { reqPerSec: result.requests.average, p99: result.latency.p99 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Row {
  shape: string;
  connections: number;
  server: string;
  reqPerSec: number;
  datapointsPerSec: number;
  ratio: number;
  p99Ms: number;
  peakRssMb: number;
  /** Stored bytes per point after the run (growing stores): file after compaction, or heap. */
  bytesPerPoint?: number;
}

/** Asks a store server for its bytes per stored point. */
function footprintOf(server: Server): Promise<number | undefined> {
  return new Promise((resolve) => {
    server.child.once('message', (m: { footprint?: { bytesPerPoint: number } }) => resolve(m.footprint?.bytesPerPoint));
    server.child.send('footprint');
  });
}

async function compare(shape: Shape, candidate: string, storeKind: string): Promise<Row[]> {
  const rows: Row[] = [];
  const bound = await start('bound-server.ts');
  const mw = await start('koa-server.ts', [storeKind]);
  try {
    for (const connections of shape.connections ?? [1, 8]) {
      const runs = { bound: [] as number[], mw: [] as number[], boundP99: [] as number[], mwP99: [] as number[] };
      for (let r = 0; r < rounds; r++) {
        const a = await load(bound.port, shape.boundShape ?? shape, connections);
        const b = await load(mw.port, shape, connections);
        runs.bound.push(a.reqPerSec);
        runs.boundP99.push(a.p99);
        runs.mw.push(b.reqPerSec);
        runs.mwP99.push(b.p99);
      }
      const boundRps = median(runs.bound);
      const mwRps = median(runs.mw);
      const row = (server: string, rps: number, p99: number, pid: number): Row => ({
        shape: shape.id,
        connections,
        server,
        reqPerSec: rps,
        datapointsPerSec: rps * shape.points,
        ratio: rps / boundRps,
        p99Ms: p99,
        peakRssMb: peakRss(pid) / 2 ** 20,
      });
      rows.push(row('bound', boundRps, median(runs.boundP99), bound.child.pid as number));
      const bytesPerPoint = shape.next && storeKind !== 'discard' ? await footprintOf(mw) : undefined;
      rows.push({ ...row(candidate, mwRps, median(runs.mwP99), mw.child.pid as number), ...(bytesPerPoint !== undefined && { bytesPerPoint }) });
    }
  } finally {
    bound.child.kill();
    mw.child.kill();
  }
  return rows;
}

const rows: Row[] = [];
/** `--shapes b,influx`: only these rows of the discard store (no store rows). */
const onlyShapes = process.argv.includes('--shapes') ? (process.argv[process.argv.indexOf('--shapes') + 1] ?? '').split(',') : undefined;
if (onlyShapes) {
  for (const shape of [...shapes, ...protocolShapes].filter((s) => onlyShapes.includes(s.id))) rows.push(...(await compare(shape, 'middleware', 'discard')));
} else if (!storesOnly) {
  for (const shape of [...shapes, ...protocolShapes]) rows.push(...(await compare(shape, 'middleware', 'discard')));
  const storeShape = shapes[0] as Shape;
  for (const store of ['memory', 'sqlite', 'sqlite-normal']) rows.push(...(await compare(storeShape, `middleware+${store}`, store)));
}
// The stores growing: new points in every request, 8 connections (Cassandra when CASSANDRA_CONTACT_POINTS is set).
const growing: Shape[] = [
  { id: 'W1', label: '1,000 series × 10 new points', body: Buffer.alloc(0), next: newPoints(1000, 10), points: 10_000, headers: {}, connections: [8] },
  { id: 'W2', label: '10 series × 1,000 new points', body: Buffer.alloc(0), next: newPoints(10, 1000), points: 10_000, headers: {}, connections: [8] },
];
/** `--store sqlite` measures the growing shapes on one store only. */
const onlyStore = process.argv.includes('--store') ? process.argv[process.argv.indexOf('--store') + 1] : undefined;
const growingStores = ['memory', 'sqlite', ...(process.env.CASSANDRA_CONTACT_POINTS ? ['cassandra'] : [])].filter((s) => !onlyStore || s === onlyStore);
if (!onlyShapes) for (const shape of growing) for (const store of growingStores) rows.push(...(await compare(shape, `middleware+${store}`, store)));

if (asJson) {
  process.stdout.write(`${JSON.stringify({ node: process.version, date: new Date().toISOString(), quick, rounds, seconds, rows }, null, 2)}\n`);
} else {
  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log(`node ${process.version}, ${rounds} round(s) × ${seconds}s per run, median\n`);
  console.log('shape | conns | server             |   req/s | datapoints/s | ratio | p99 ms | peak RSS MB | B/point');
  console.log('------|-------|--------------------|---------|--------------|-------|--------|-------------|--------');
  for (const r of rows) {
    console.log(
      `${r.shape.padEnd(5)} | ${String(r.connections).padStart(5)} | ${r.server.padEnd(18)} | ${fmt(r.reqPerSec, 1).padStart(7)} | ${fmt(r.datapointsPerSec).padStart(12)} | ${fmt(r.ratio, 2).padStart(5)} | ${fmt(r.p99Ms).padStart(6)} | ${fmt(r.peakRssMb).padStart(11)} | ${r.bytesPerPoint === undefined ? '' : fmt(r.bytesPerPoint, 1)}`,
    );
  }
  const at8 = rows.filter((r) => r.connections === 8 && r.server === 'middleware');
  console.log('\ncassandra: measured by npm run bench:cassandra (new points in every request, 1 node or the 3-node cluster)');
  console.log(`\nsummary: middleware/bound at 8 connections — ${at8.map((r) => `${r.shape} ${fmt(r.ratio, 2)}`).join(', ')}`);
  const grown = rows.filter((r) => r.shape.startsWith('W') && r.server !== 'bound');
  console.log(`stores growing (new points, 8 connections) — ${grown.map((r) => `${r.shape} ${r.server.replace('middleware+', '')} ${fmt(r.ratio, 2)} (p99 ${fmt(r.p99Ms)} ms${r.bytesPerPoint === undefined ? '' : `, ${fmt(r.bytesPerPoint, 1)} B/point`})`).join(', ')}`);
}
