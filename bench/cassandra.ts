// npm run bench:cassandra [-- --nodes 1|3] [-- --seconds 20]: sustained datapoints/s into the project's own Cassandra
// (npm run cassandra:start, or cassandra:cluster:start for --nodes 3) through the middleware, with new timestamps in
// every request (the store grows as in production). Reports the CPU share of the Node server and of Cassandra, and
// bytes on disk per point after a flush.
import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLUSTER, nodetool, runningPid, SINGLE, type NodeSpec } from '../scripts/cassandra/nodes.js';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '1' }, seconds: { type: 'string', default: '20' } } });
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
  server.kill();
  const ok = result['2xx'];
  const datapoints = ok * series * points;
  for (const node of nodes) if (nodetool(node, ['flush', keyspace]) !== 0) throw new Error(`nodetool flush failed on ${node.name}`);
  const onDisk = nodes.reduce((sum, node) => {
    const dir = join(node.dir, 'data', keyspace);
    try {
      return sum + bytesUnder(dir);
    } catch {
      return sum;
    }
  }, 0);
  return {
    shape: `${label}: ${series} series × ${points} points`,
    nodes: nodes.length,
    requests: ok,
    failed: result.non2xx + result.errors + result.timeouts,
    datapointsPerSec: Math.round(datapoints / wall),
    p99Ms: result.latency.p99,
    nodeCpu: Math.round(nodeCpu * 100),
    cassandraCpu: Math.round(cassandraCpu * 100),
    bytesPerPointPerReplica: datapoints > 0 ? Number((onDisk / nodes.length / datapoints).toFixed(1)) : NaN,
  };
}

const rows = [await measure('W1', 1000, 10), await measure('W2', 10, 1000)];
console.log(`Cassandra on ${nodes.length} node(s), ${seconds} s per shape, 8 connections; CPU in % of one core (this machine has 2)\n`);
console.log('shape                          | nodes | requests | failed | datapoints/s | p99 ms | Node CPU % | Cassandra CPU % | bytes/point/replica');
for (const r of rows) {
  console.log(`${r.shape.padEnd(30)} | ${String(r.nodes).padStart(5)} | ${String(r.requests).padStart(8)} | ${String(r.failed).padStart(6)} | ${r.datapointsPerSec.toLocaleString('en-US').padStart(12)} | ${String(r.p99Ms).padStart(6)} | ${String(r.nodeCpu).padStart(10)} | ${String(r.cassandraCpu).padStart(15)} | ${String(r.bytesPerPointPerReplica).padStart(8)}`);
}
process.exit(0);
