import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { object, number } from 'superstruct';
import { exportData, importData, ImportError, MemoryStore, TypeRegistry, type Store } from '../src/index.js';
import { SqliteStore } from '../src/sqlite.js';
import { readAll, series } from '../src/store-api/conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'kairosdb-transfer-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cli = fileURLToPath(new URL('../src/bin/transfer.ts', import.meta.url));
const run = (args: string[], input?: Buffer) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', ...(input && { input }) });
const fixture = readFileSync(new URL('./fixtures/kairosdb-1.3-export.txt', import.meta.url));

/** What exportData writes, as text. */
async function exported(store: Store, options: Parameters<typeof exportData>[2] = {}): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await exportData(store, out, options);
  return Buffer.concat(chunks).toString('utf8');
}

/** Every series of every metric with its points and each point's TTL left (seconds, 0 never). */
async function contents(store: Store, now: number) {
  const all: Record<string, unknown[]> = {};
  for (const metric of await store.metricNames()) {
    for await (const s of store.read({ metric, expiry: true })) {
      const points: unknown[] = [];
      for await (const page of s.points()) {
        for (let i = 0; i < page.timestamps.length; i++) {
          const expires = page.expires?.[i] ?? 0;
          points.push([page.timestamps[i], page.values[i] instanceof Uint8Array ? Buffer.from(page.values[i] as Uint8Array).toString('hex') : page.values[i], expires === 0 ? 0 : Math.round((expires - now) / 1000)]);
        }
      }
      (all[`${metric} ${s.type} ${JSON.stringify(s.tags)}`] ??= []).push(...points);
    }
  }
  return all;
}

/**
 * The same series and points, and TTLs left within 3 s of each other: a point's remaining TTL at export is its TTL at
 * import, in whole seconds (rounded up), so its expiry moves later by the time between the two and under a second.
 */
function assertSameContents(actual: Record<string, unknown[]>, expected: Record<string, unknown[]>): void {
  const strip = (all: Record<string, unknown[]>) => Object.fromEntries(Object.entries(all).map(([k, points]) => [k, points.map((p) => (p as unknown[]).slice(0, 2))]));
  assert.deepEqual(strip(actual), strip(expected));
  for (const [key, points] of Object.entries(expected)) {
    points.forEach((p, i) => {
      const want = (p as number[])[2] as number;
      const got = ((actual[key] as unknown[])[i] as number[])[2] as number;
      assert.ok(want === 0 ? got === 0 : Math.abs(got - want) <= 3, `${key} point ${i}: TTL ${got} s left, ${want} s at the source`);
    });
  }
}

const geo = object({ lat: number(), lon: number() });
function registry(): TypeRegistry {
  const types = new TypeRegistry();
  types.register({
    name: 'geo-point',
    struct: geo,
    encode: (v) => new Uint8Array(new Float64Array([v.lat, v.lon]).buffer),
    decode: (b) => {
      const [lat, lon] = new Float64Array(b.buffer);
      return { lat: lat as number, lon: lon as number };
    },
  });
  return types;
}

describe('exportData / importData (KairosDB export format)', () => {
  it('moves every type, tag set and TTL from one store to another, line by line in the format', async () => {
    const now = Date.now();
    const source = new MemoryStore();
    const types = registry();
    const geoType = types.get('geo-point');
    await source.write([
      series('cpu', { host: 'a' }, [[now - 2000, 1], [now - 1000, 2]], { ttl: 3600 }),
      series('cpu', { host: 'a' }, [[now - 1500, 1.0]], { storage: 'double', type: 'double', ttl: 3600 }),
      series('cpu', { host: 'b' }, [[now, -7]]),
      series('txt', { host: 'a' }, [[now, 'say "hi"\n']], { storage: 'string', type: 'string' }),
      series('pos', { car: '1' }, [[now, geoType?.encode({ lat: 1.5, lon: -2 }) as Uint8Array]], { storage: 'bytes', type: 'geo-point', ttl: 60 }),
    ]);
    await source.write([series('cpu', { host: 'a' }, [[now, 3]], { ttl: 7200 })]);
    const text = await exported(source, { types });
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 5);
    // One line per series; a line whose points expire alike has the line's ttl, else each point has its own.
    const cpuA = lines.find((l) => l.name === 'cpu' && l.type === 'long' && (l.tags as { host: string }).host === 'a');
    assert.deepEqual((cpuA?.datapoints as unknown[][]).map((p) => p.slice(0, 3)), [[now - 2000, 1, 'long'], [now - 1000, 2, 'long'], [now, 3, 'long']]);
    assert.deepEqual((cpuA?.datapoints as unknown[][]).map((p) => Math.round((p[3] as number) / 100)), [36, 36, 72]);
    const cpuDouble = lines.find((l) => l.type === 'double');
    assert.ok(Math.abs((cpuDouble?.ttl as number) - 3600) <= 1);
    assert.deepEqual(cpuDouble?.datapoints, [[now - 1500, 1]]);
    assert.deepEqual(lines.find((l) => l.name === 'pos')?.datapoints, [[now, { lat: 1.5, lon: -2 }]]);
    assert.equal(lines.find((l) => l.name === 'txt')?.ttl, undefined);

    const target = new SqliteStore({ path: ':memory:' });
    const totals = await importData(target, Readable.from([text.slice(0, 50), text.slice(50)]), { types });
    assert.equal(totals.points, 7);
    assertSameContents(await contents(target, Date.now()), await contents(source, Date.now()));
    await target.close();
  });

  it('cuts a series into lines of pointsPerLine points, exports only the metrics asked for, and leaves out expired points', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ clock: () => now });
    await store.write([series('a', { h: 'x' }, Array.from({ length: 25 }, (_, i) => [i, i] as [number, number])), series('b', { h: 'x' }, [[1, 1]], { ttl: 5 })]);
    await store.write([series('b', { h: 'x' }, [[2, 2]], { ttl: 100 })]);
    const text = await exported(store, { metrics: ['a'], pointsPerLine: 10, clock: () => now });
    assert.deepEqual(text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { datapoints: unknown[] }).datapoints.length), [10, 10, 5]);
    now += 10_000;
    const later = JSON.parse(await exported(store, { metrics: ['b'], clock: () => now })) as { ttl: number; datapoints: unknown[] };
    assert.deepEqual(later.datapoints, [[2, 2]]);
    assert.equal(later.ttl, 90);
  });

  it('imports an export written by KairosDB 1.3 (its per-point types, a series split by type, an empty line of points)', async () => {
    const store = new MemoryStore();
    const totals = await importData(store, Readable.from([fixture]));
    assert.equal(totals.points, 7);
    const tracked = await readAll(store, { metric: 'archive_file_tracked', tags: { host: ['server1'] } });
    assert.deepEqual(tracked.map((s) => [s.type, s.points]), [['double', [[1359788300000, 13.2], [1359788410000, 23.1]]], ['long', [[1359788400000, 123]]]]);
    assert.deepEqual((await readAll(store, { metric: 'archive_file_tracked', tags: { host: ['server2'] } }))[0]?.type, 'double');
    assert.equal((await readAll(store, { metric: 'impedance' }))[0]?.type, 'complex-number');
    assert.deepEqual((await readAll(store, { metric: 'log.line' }))[0]?.points, [[1359788300000, 'disk full']]);
  });

  it('stops at the first invalid line, naming it and why, after storing the lines before it', async () => {
    const store = new MemoryStore();
    const body = '{"name":"ok","tags":{"h":"a"},"datapoints":[[1,1]]}\n\n{"name":"bad","tags":{"h":"a"},"datapoints":[[2,"x","long"]]}\n';
    await assert.rejects(importData(store, Readable.from([body])), (error: unknown) => {
      assert.ok(error instanceof ImportError);
      assert.equal(error.line, 3);
      assert.match(error.message, /^line 3: .*datapoints\[0\]/);
      return true;
    });
    assert.deepEqual((await readAll(store, { metric: 'ok' }))[0]?.points, [[1, 1]]);
    await assert.rejects(importData(store, Readable.from(['{"name":'])), /line 1: not JSON/);
    await assert.rejects(importData(store, Readable.from(['x'.repeat(100)]), { maxLineBytes: 50 }), /line 1: longer than 50 bytes \(maxLineBytes\)/);
    await assert.rejects(importData(store, Readable.from(['{"name":"pos","tags":{"a":"b"},"type":"geo-point","datapoints":[[1,{"lat":1,"lon":2}]]}\n'])), /line 1: .*geo-point/);
  });

  it("refuses to export a type it does not know, naming it and the way out", async () => {
    const store = new MemoryStore();
    await store.write([series('pos', { car: '1' }, [[1, new Uint8Array(16)]], { storage: 'bytes', type: 'geo-point' })]);
    await assert.rejects(exported(store), /metric 'pos' has series of type 'geo-point', which is not registered: give exportData the TypeRegistry that has it \(CLI: --types\)/);
  });
});

describe('koa-kairosdb export|import (CLI)', () => {
  it('exports a SQLite store gzipped and imports it into another, gzip recognised on standard input', async () => {
    const from = join(dir, 'from.db');
    const store = new SqliteStore({ path: from });
    const now = Date.now();
    await store.write([series('cpu', { host: 'a' }, [[now, 1], [now + 1, 2]], { ttl: 600 }), series('mem', { host: 'a' }, [[now, 5]])]);
    await store.close();
    const file = join(dir, 'out.txt.gz');
    const exporting = run(['export', '--store', `sqlite:${from}`, '-f', file]);
    assert.equal(exporting.status, 0, exporting.stderr);
    assert.match(exporting.stderr, /koa-kairosdb: exported 3 points \(2 series\)/);
    assert.ok(!existsSync(`${file}.partial`));
    const lines = gunzipSync(readFileSync(file)).toString('utf8').trimEnd().split('\n');
    assert.equal(lines.length, 2);
    const to = join(dir, 'to.db');
    const importing = run(['import', '--store', `sqlite:${to}`], readFileSync(file));
    assert.equal(importing.status, 0, importing.stderr);
    assert.match(importing.stderr, /imported 3 points \(2 lines\)/);
    const copy = new SqliteStore({ path: to });
    assertSameContents(await contents(copy, Date.now()), await contents(new SqliteStore({ path: from }), Date.now()));
    await copy.close();
  });

  it("imports KairosDB's own export from a file, and exports one metric to standard output", () => {
    const file = join(dir, 'kairos.txt');
    writeFileSync(file, gzipSync(fixture));
    const to = join(dir, 'kairos.db');
    assert.equal(run(['import', '--store', `sqlite:${to}`, '--file', file]).status, 0);
    const out = run(['export', '--store', `sqlite:${to}`, '-n', 'log.line']);
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), { name: 'log.line', tags: { host: 'server1' }, type: 'string', datapoints: [[1359788300000, 'disk full']] });
  });

  it('says what is wrong in one line: usage (exit 2), a bad line or a missing file (exit 1), never a stack', () => {
    const cases: [string[], number, RegExp][] = [
      [[], 2, /give a command: export or import/],
      [['exprot', '--store', 'sqlite:x'], 2, /unknown command 'exprot'/],
      [['export'], 2, /give --store/],
      [['export', '--stroe', 'sqlite:x'], 2, /unknown option '--stroe'; did you mean '--store'\?/],
      [['export', '--store', 'mysql:x'], 2, /--store takes sqlite:PATH or cassandra:/],
      [['export', '--store', `sqlite:${join(dir, 'none.db')}`], 1, /no SQLite file at/],
      [['import', '--store', `sqlite:${join(dir, 'x.db')}`, '-f', join(dir, 'missing.txt')], 1, /no file at/],
    ];
    for (const [args, code, message] of cases) {
      const result = run(args);
      assert.equal(result.status, code, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    }
    const bad = run(['import', '--store', `sqlite:${join(dir, 'bad.db')}`], Buffer.from('{"name":"a","tags":{"h":"b"},"datapoints":[[1,1]]}\n{"name":""}\n'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^koa-kairosdb: line 2: /);
    assert.match(run(['--help']).stdout, /Usage: koa-kairosdb export\|import/);
  });

  it('migrate takes a Cassandra store only, and --help says what it does', () => {
    const sqlite = run(['migrate', '--store', `sqlite:${join(dir, 'm.db')}`]);
    assert.equal(sqlite.status, 2);
    assert.match(sqlite.stderr, /migrate takes a Cassandra store: --store cassandra:HOSTS\/KEYSPACE/);
    assert.match(run(['--help']).stdout, /migrate \(Cassandra\): moves the points of a keyspace written before layout 3/);
  });
});
