// Two app instances (processes) sharing one store run a roll-up task; the lease holder is killed with SIGKILL in the
// middle of an execution. Every period must be rolled up exactly once, the other instance taking over within one
// interval of the lease's expiry. Used for SQLite (test/rollups-processes.test.ts) and the Cassandra node
// (test/integration/rollups-processes.test.ts).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, type Store } from '../src/index.js';

export interface InstancesPlan {
  /** A store on the shared storage, for seeding and reading back. */
  store: Store;
  /** The child's arguments naming the storage (`sqlite <path>` or `cassandra <hosts> <keyspace>`). */
  args: string[];
  series: number;
  samplingS: number;
  intervalS: number;
  pollMs: number;
  leaseMs: number;
}

interface Instance {
  child: ChildProcess;
  periods: { start: number; end: number; at: number }[];
  ready: Promise<void>;
}

/** Points per sampling period of each series (each of value 1): the sum every rolled-up point must have. */
const PER_PERIOD = 4;

export async function twoInstancesRollUp(plan: InstancesPlan): Promise<{ periods: number; takeoverMs: number }> {
  const { store, series, samplingS, intervalS } = plan;
  const app = new Koa();
  const mount = kairosdb({ store, rollups: { run: false } });
  app.use(mount);
  const agent = request(app.callback());
  const spacing = (samplingS * 1000) / PER_PERIOD;
  const intervalMs = intervalS * 1000;
  const wait = Math.max(120_000, 30 * intervalMs);
  const now = Date.now();
  const from = now - 6 * intervalMs - (now % (samplingS * 1000));
  const to = now + 20 * intervalMs;
  const timestamps: number[] = [];
  for (let t = from; t < to; t += spacing) timestamps.push(t);
  for (let first = 0; first < series; first += 100) {
    const body = Array.from({ length: Math.min(100, series - first) }, (_, i) => ({ name: 'ri.in', tags: { id: String(first + i) }, datapoints: timestamps.map((t) => [t, 1]) }));
    const res = await agent.post('/api/v1/datapoints').send(body);
    assert.equal(res.status, 204, res.text);
  }
  const task = {
    name: 'instances',
    execution_interval: { value: intervalS, unit: 'seconds' },
    rollups: [{ save_as: 'ri.out', query: { start_relative: { value: 1, unit: 'hours' }, metrics: [{ name: 'ri.in', group_by: [{ name: 'tag', tags: ['id'] }], aggregators: [{ name: 'sum', sampling: { value: samplingS, unit: 'seconds' } }] }] } }],
  };
  assert.equal((await agent.post('/api/v1/rollups').send(task)).status, 200);

  const instances = [start(plan), start(plan)];
  try {
    await Promise.all(instances.map((i) => i.ready));
    const holderOf = () => instances.find((i) => i.periods.length > 0);
    await until('the first periods', () => (holderOf()?.periods.length ?? 0) >= 3, wait);
    const holder = holderOf() as Instance;
    const other = instances.find((i) => i !== holder) as Instance;
    // In the middle of an execution: right after a period that is not the last one this execution does.
    await until('a period in the middle of an execution', () => {
      const last = holder.periods.at(-1);
      return last !== undefined && Date.now() - last.end > samplingS * 1000 && Date.now() - last.at < 50;
    }, wait);
    holder.child.kill('SIGKILL');
    const killed = Date.now();
    await until('the other instance to take over', () => other.periods.length > 0, plan.leaseMs + intervalMs + 60_000);
    const takeoverMs = (other.periods[0] as { at: number }).at - killed;
    const through = Date.now() + 2 * intervalMs;
    await until('the other instance to catch up', () => (other.periods.at(-1)?.end ?? 0) >= through - samplingS * 1000, wait);
    other.child.kill('SIGTERM');
    await new Promise((resolve) => other.child.once('exit', resolve));

    const done = [...holder.periods, ...other.periods].sort((a, b) => a.start - b.start);
    const starts = done.map((p) => p.start);
    assert.equal(new Set(starts).size, starts.length, `a period was rolled up twice: ${JSON.stringify(starts)}`);
    done.forEach((p, i) => i > 0 && assert.equal(p.start, (done[i - 1] as { end: number }).end, 'the periods follow each other without a gap'));
    const first = (done[0] as { start: number }).start;
    const last = (done.at(-1) as { end: number }).end;
    const read = await agent.post('/api/v1/datapoints/query').send({ start_absolute: first, end_absolute: last - 1, metrics: [{ name: 'ri.out', group_by: [{ name: 'tag', tags: ['id'] }] }] });
    assert.equal(read.status, 200, read.text);
    const results = read.body.queries[0].results as { tags: { id: string[] }; values: [number, number][] }[];
    assert.equal(results.length, series, 'every series rolled up');
    const expected = starts.map((s) => [s, PER_PERIOD]);
    for (const r of results) assert.deepEqual(r.values, expected, `series ${r.tags.id}`);
    return { periods: starts.length, takeoverMs };
  } finally {
    for (const i of instances) if (i.child.exitCode === null) i.child.kill('SIGKILL');
    await mount.close();
  }
}

function start(plan: InstancesPlan): Instance {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./rollups-child.ts', import.meta.url).pathname, ...plan.args, String(plan.pollMs), String(plan.leaseMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const periods: Instance['periods'] = [];
  let ready: () => void = () => {};
  const instance = { child, periods, ready: new Promise<void>((resolve) => (ready = resolve)) };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const event = JSON.parse(line) as { ready?: boolean; start?: number; end?: number };
    if (event.ready) ready();
    else periods.push({ start: event.start as number, end: event.end as number, at: Date.now() });
  });
  return instance;
}

async function until(what: string, done: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
