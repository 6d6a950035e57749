// Export and import at size: a SQLite store of --points points (--series series, half of them with a 30-day TTL) is
// exported by the CLI to a gzipped file, imported into --to (sqlite, or cassandra on CASSANDRA_CONTACT_POINTS), and
// the target read back: every point and TTL compared. Each CLI run's time and peak RSS (VmHWM) are printed. It runs
// the built CLI, as users do: `npm run build` first.
//   npx tsx bench/transfer.ts --points 10000000 --series 1000 --to cassandra
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'cassandra-driver';
import { CassandraStore } from '../src/cassandra.js';
import { SqliteStore } from '../src/sqlite.js';
import type { SeriesWrite, Store } from '../src/store-api/contract.js';

const { values } = parseArgs({ options: { points: { type: 'string', default: '1000000' }, series: { type: 'string', default: '1000' }, to: { type: 'string', default: 'sqlite' } } });
const points = Number(values.points);
const seriesCount = Number(values.series);
const perSeries = Math.ceil(points / seriesCount);
const dir = mkdtempSync(join(tmpdir(), 'kairosdb-transfer-bench-'));
const source = join(dir, 'source.db');
const file = join(dir, 'export.txt.gz');
const keyspace = `transfer_bench_${Date.now()}`;
const hosts = process.env.CASSANDRA_CONTACT_POINTS ?? '127.0.0.1';
const target = values.to === 'cassandra' ? `cassandra:${hosts}/${keyspace}` : `sqlite:${join(dir, 'target.db')}`;
const start = Date.now() - perSeries * 1000;

/** Runs the CLI; resolves with its time and the highest VmHWM seen. */
function cli(args: string[]): Promise<{ seconds: number; peakMb: number }> {
  const began = performance.now();
  const child = spawn(process.execPath, ['dist/bin/transfer.js', ...args, '--quiet'], { stdio: ['ignore', 'inherit', 'inherit'] });
  let peak = 0;
  const poll = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peak = Math.max(peak, Number(hwm[1]) / 1024);
    } catch {
      // exited
    }
  }, 100);
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => {
      clearInterval(poll);
      if (code !== 0) reject(new Error(`koa-kairosdb ${args[0]} exited ${code}`));
      else resolve({ seconds: (performance.now() - began) / 1000, peakMb: Math.round(peak) });
    }),
  );
}

async function fill(): Promise<void> {
  const store = new SqliteStore({ path: source });
  for (let s = 0; s < seriesCount; s += 10) {
    const batch: SeriesWrite[] = [];
    for (let k = s; k < Math.min(s + 10, seriesCount); k++) {
      const timestamps = Array.from({ length: perSeries }, (_, i) => start + i * 1000);
      batch.push({ metric: `bench.m${k % 10}`, tags: { host: `h${k}` }, type: 'double', storage: 'double', ttl: k % 2 === 0 ? 30 * 86_400 : 0, timestamps, values: timestamps.map((t, i) => Math.round(Math.sin(i / 50) * 1000) / 10 + k) });
    }
    await store.write(batch);
  }
  await store.compact();
  await store.close();
}

/** Every series of a store: its points as one string, and each point's expiry (ms, 0 never), by series. */
async function dump(store: Store): Promise<{ series: Map<string, { points: string; expires: number[] }>; points: number }> {
  const series = new Map<string, { points: string; expires: number[] }>();
  let total = 0;
  for (const metric of await store.metricNames()) {
    for await (const s of store.read({ metric, expiry: true })) {
      const parts: string[] = [];
      const expires: number[] = [];
      for await (const page of s.points()) {
        for (let i = 0; i < page.timestamps.length; i++) {
          parts.push(`${page.timestamps[i]}:${page.values[i]}`);
          expires.push(page.expires?.[i] ?? 0);
        }
      }
      total += parts.length;
      series.set(`${metric} ${JSON.stringify(s.tags)} ${s.type}`, { points: parts.join(','), expires });
    }
  }
  return { series, points: total };
}

/**
 * What differs: a series missing or with other points, or a point whose expiry is earlier than at the source or later
 * by more than the time between export and import (the import gives a point the TTL it had left at export) and 2 s.
 */
function differences(before: Awaited<ReturnType<typeof dump>>, after: Awaited<ReturnType<typeof dump>>, lagMs: number): string[] {
  const found: string[] = [];
  if (before.series.size !== after.series.size) found.push(`${before.series.size} series at the source, ${after.series.size} at the target`);
  for (const [key, source] of before.series) {
    const target = after.series.get(key);
    if (!target) found.push(`${key}: missing`);
    else if (target.points !== source.points) found.push(`${key}: other points`);
    else {
      const off = source.expires.findIndex((e, i) => {
        const t = target.expires[i] as number;
        return e === 0 ? t !== 0 : t < e - 1000 || t > e + lagMs + 2000;
      });
      if (off >= 0) found.push(`${key}: point ${off} expires at ${target.expires[off]}, at the source ${source.expires[off]}`);
    }
    if (found.length >= 5) break;
  }
  return found;
}

const open = (spec: string): Store =>
  spec.startsWith('cassandra:') ? new CassandraStore({ contactPoints: hosts.split(','), localDataCenter: 'datacenter1', keyspace, createSchema: false }) : new SqliteStore({ path: spec.slice('sqlite:'.length) });

try {
  const filled = performance.now();
  await fill();
  console.log(`filled ${points.toLocaleString('en')} points in ${seriesCount} series (${((performance.now() - filled) / 1000).toFixed(1)} s; ${(statSync(source).size / 1e6).toFixed(0)} MB)`);
  const exported = await cli(['export', '--store', `sqlite:${source}`, '-f', file]);
  console.log(`export: ${exported.seconds.toFixed(1)} s, ${Math.round(points / exported.seconds).toLocaleString('en')} points/s, peak RSS ${exported.peakMb} MB, file ${(statSync(file).size / 1e6).toFixed(1)} MB gzipped`);
  const imported = await cli(['import', '--store', target, '-f', file]);
  console.log(`import into ${values.to}: ${imported.seconds.toFixed(1)} s, ${Math.round(points / imported.seconds).toLocaleString('en')} points/s, peak RSS ${imported.peakMb} MB`);
  const [a, b] = [open(`sqlite:${source}`), open(target)];
  const [before, after] = [await dump(a), await dump(b)];
  await Promise.all([a.close(), b.close()]);
  const lagMs = (exported.seconds + imported.seconds) * 1000;
  const found = differences(before, after, lagMs);
  console.log(`compared: ${before.points.toLocaleString('en')} points at the source, ${after.points.toLocaleString('en')} at the target; values equal, expiries equal up to the ${(lagMs / 1000).toFixed(0)} s between export and import: ${found.length === 0 ? 'yes' : `NO — ${found.join('; ')}`}`);
  if (found.length > 0) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (values.to === 'cassandra') {
    const client = new Client({ contactPoints: hosts.split(','), localDataCenter: 'datacenter1' });
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client.shutdown();
  }
}
