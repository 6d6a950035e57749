// npm run bench:cassandra [-- --nodes 1|3] [-- --seconds 20] [-- --reads]: sustained datapoints/s into the project's
// own Cassandra (npm run cassandra:start, or cassandra:cluster:start for --nodes 3) through the middleware, with new
// timestamps in every request (the store grows as in production), then 10 s more for the latency of a steady ingest
// ("p99 steady": the series exist by then). Reports the CPU share of the Node server and of
// Cassandra, and bytes on disk per point: as written (after a flush), after the store's compaction merged the chunks
// and Cassandra compacted its SSTables (`nodetool compact`; the deleted small chunks still there as tombstones), and
// once the tombstones are purged (gc_grace_seconds 0, then `nodetool compact` again: what the table holds after its
// gc_grace_seconds, 10 days by default). With --reads, also bench/reads.ts: a raw read of 1,000,000 points and a
// `sum` by hour over 1,500,000; with --cardinality N, bench/cardinality.ts's rows for N series on Cassandra.
import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import driver from 'cassandra-driver';
import { CLUSTER, nodetool, runningPid, SINGLE, type NodeSpec } from '../scripts/cassandra/nodes.js';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '1' }, seconds: { type: 'string', default: '20' }, reads: { type: 'boolean', default: false }, cardinality: { type: 'string' } } });
const nodes: readonly NodeSpec[] = values.nodes === '3' ? CLUSTER : [SINGLE];
const seconds = Number(values.seconds);
if (!nodes.every((n) => runningPid(n) !== undefined)) {
  console.error(`Cassandra is not running: npm run ${nodes.length === 3 ? 'cassandra:cluster:start' : 'cassandra:start'} first`);
  process.exit(2);
}
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const TICK = 1000;

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true })) {
    const stat = statSync(join(dir, String(entry)));
    if (stat.isFile()) total += stat.size;
  }
  return total;
}

/** A body of `series` × `points` new points: every request continues each series' clock. */
function bodyMaker(series: number, points: number) {
  let next = Date.UTC(2026, 0, 1);
  return () => {
    const start = next;
    next += points * TICK;
    return JSON.stringify(
      Array.from({ length: series }, (_, s) => ({
        name: `bench.c${s % 20}`,
        tags: { host: `h${s}`, dc: `dc${s % 3}` },
        datapoints: Array.from({ length: points }, (_, i) => [start + i * TICK, Math.round(Math.sin((start + i * TICK) / 3.6e6 + s) * 1000) / 10]),
      })),
    );
  };
}

async function measure(label: string, series: number, points: number) {
  const keyspace = `bench_${label.toLowerCase()}_${Date.now() % 1_000_000}`;
  const env = { ...process.env, CASSANDRA_CONTACT_POINTS: nodes.map((n) => n.ip).join(','), BENCH_KEYSPACE: keyspace, BENCH_RF: String(nodes.length) };
  const server = fork(here('koa-server.ts'), ['cassandra'], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((ok, fail) => {
    server.once('message', (m: { port: number }) => ok(m.port));
    server.once('exit', (code) => fail(new Error(`koa-server exited ${code}`)));
  });
  const make = bodyMaker(series, points);
  const pids = nodes.map((n) => runningPid(n) as number);
  const before = { node: cpuSeconds(server.pid as number), cassandra: pids.map(cpuSeconds) };
  const started = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/api/v1/datapoints`,
    method: 'POST',
    connections: 8,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request: object) => ({ ...request, body: make() }) }],
  });
  const wall = (performance.now() - started) / 1000;
  const nodeCpu = (cpuSeconds(server.pid as number) - before.node) / wall;
  const cassandraCpu = pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - (before.cassandra[i] as number), 0) / wall;
  // The same load for 10 s more, on series that exist by now: the latency of a steady ingest (the first requests
  // of the run above also write the index rows of every new series).
  const steady = await autocannon({
    url: `http://127.0.0.1:${port}/api/v1/datapoints`,
    method: 'POST',
    connections: 8,
    duration: 10,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request: object) => ({ ...request, body: make() }) }],
  });
  const ok = result['2xx'] + steady['2xx'];
  const datapoints = ok * series * points;
  const perPoint = async () => {
    for (const node of nodes) if (nodetool(node, ['flush', keyspace]) !== 0) throw new Error(`nodetool flush failed on ${node.name}`);
    const onDisk = nodes.reduce((sum, node) => {
      try {
        return sum + bytesUnder(join(node.dir, 'data', keyspace));
      } catch {
        return sum;
      }
    }, 0);
    return datapoints > 0 ? Number((onDisk / nodes.length / datapoints).toFixed(1)) : NaN;
  };
  const written = await perPoint();
  await new Promise((resolve) => {
    server.once('message', resolve);
    server.send('compact');
  });
  server.kill();
  for (const node of nodes) nodetool(node, ['compact', keyspace]);
  const compacted = await perPoint();
  const cql = new driver.Client({ contactPoints: nodes.map((n) => n.ip), localDataCenter: 'datacenter1' });
  await cql.execute(`ALTER TABLE ${keyspace}.chunks WITH gc_grace_seconds = 0`);
  await cql.shutdown();
  for (const node of nodes) nodetool(node, ['compact', keyspace]);
  const purged = await perPoint();
  return {
    shape: `${label}: ${series} series × ${points} points`,
    nodes: nodes.length,
    requests: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts + steady.non2xx + steady.errors + steady.timeouts,
    datapointsPerSec: Math.round((result['2xx'] * series * points) / wall),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    steadyP99Ms: steady.latency.p99,
    nodeCpu: Math.round(nodeCpu * 100),
    cassandraCpu: Math.round(cassandraCpu * 100),
    bytesPerPoint: `${written} / ${compacted} / ${purged}`,
  };
}

const rows = [await measure('W1', 1000, 10), await measure('W2', 10, 1000)];
console.log(`Cassandra on ${nodes.length} node(s), ${seconds} s per shape, 8 connections; CPU in % of one core (this machine has 2)\n`);
console.log('shape                          | nodes | requests | failed | datapoints/s | p50 ms | p99 ms | p99 steady | Node CPU % | Cassandra CPU % | bytes/point/replica: written / compacted / purged');
for (const r of rows) {
  console.log(`${r.shape.padEnd(30)} | ${String(r.nodes).padStart(5)} | ${String(r.requests).padStart(8)} | ${String(r.failed).padStart(6)} | ${r.datapointsPerSec.toLocaleString('en-US').padStart(12)} | ${String(r.p50Ms).padStart(6)} | ${String(r.p99Ms).padStart(6)} | ${String(r.steadyP99Ms).padStart(10)} | ${String(r.nodeCpu).padStart(10)} | ${String(r.cassandraCpu).padStart(15)} | ${r.bytesPerPoint}`);
}
if (values.reads) {
  const env = { ...process.env, CASSANDRA_CONTACT_POINTS: nodes.map((n) => n.ip).join(','), BENCH_KEYSPACE: `bench_reads_${Date.now() % 1_000_000}`, BENCH_RF: String(nodes.length) };
  const reads = fork(here('reads.ts'), ['cassandra', '1500000', '1000000'], { execArgv: ['--import', 'tsx'], env, stdio: 'inherit' });
  await new Promise((resolve) => reads.once('exit', resolve));
}
if (values.cardinality) {
  const env = { ...process.env, CASSANDRA_CONTACT_POINTS: nodes.map((n) => n.ip).join(',') };
  const rows = fork(here('cardinality.ts'), ['--series', values.cardinality, '--stores', 'cassandra'], { execArgv: ['--import', 'tsx'], env, stdio: 'inherit' });
  await new Promise((resolve) => rows.once('exit', resolve));
}
process.exit(0);
