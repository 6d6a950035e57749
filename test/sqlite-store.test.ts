import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { storeConformanceSuite, readAll, series } from '../src/store-api/conformance.js';
import { SqliteStore } from '../src/sqlite.js';

const Database = createRequire(import.meta.url)('better-sqlite3');
const dir = mkdtempSync(join(tmpdir(), 'koa-kairosdb-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let now = 1_700_000_000_000;
const clock = () => now;
const advance = (ms: number) => {
  now += ms;
};
let files = 0;
storeConformanceSuite('SqliteStore (file)', { create: async () => new SqliteStore({ path: join(dir, `c${++files}.db`), clock }), advance });
storeConformanceSuite('SqliteStore (:memory:)', { create: async () => new SqliteStore({ path: ':memory:', clock }), advance });

describe('SqliteStore', () => {
  it('creates the directory of its file, and names the path when it cannot open it', async () => {
    const path = join(dir, 'new', 'deeper', 'metrics.db');
    const store = new SqliteStore({ path });
    await store.write([series('m', { h: 'a' }, [[1, 1]])]);
    await store.close();
    assert.equal((await readAll(new SqliteStore({ path }), { metric: 'm' }))[0]?.points.length, 1);
    const blocked = join(dir, 'a-file');
    new SqliteStore({ path: blocked }).close();
    assert.throws(() => new SqliteStore({ path: join(blocked, 'x.db') }), (e: Error) => e.message.startsWith(`SqliteStore: cannot open the database '${join(blocked, 'x.db')}'`));
  });

  it('needs a path and refuses unknown options, so nothing is kept in memory by mistake', () => {
    assert.throws(() => new SqliteStore({ file: './x.db' } as never), /SqliteStore\(options\): unknown option 'file'; did you mean 'path'\?/);
    assert.throws(() => new SqliteStore({} as never), /options.path must name the database file/);
    assert.throws(() => new (SqliteStore as unknown as new () => unknown)(), /give \{ path: '.\/data\/metrics.db' \}/);
    assert.throws(() => new SqliteStore({ path: ':memory:', pageSize: 0 }), /options.pageSize must be an integer ≥ 1/);
  });

  it('keeps the data when the same file is opened again', async () => {
    const path = join(dir, 'reopen.db');
    const first = new SqliteStore({ path });
    await first.write([series('m', { h: 'a' }, [[1, 1], [2, 2]]), series('m', { h: 'a' }, [[1, 'x']], { storage: 'string' })]);
    await first.close();
    const second = new SqliteStore({ path });
    assert.deepEqual((await readAll(second, { metric: 'm' })).map((s) => [s.type, s.points]), [['long', [[1, 1], [2, 2]]], ['string', [[1, 'x']]]]);
    await second.close();
  });

  it('backs up online to a new file while writes go on: a consistent copy that opens as a store, with progress, and refuses an existing file', async () => {
    const path = join(dir, 'backed.db');
    const store = new SqliteStore({ path });
    await store.init();
    const write = (i: number) => store.write([series('b', { h: String(i % 50) }, Array.from({ length: 200 }, (_, k): [number, number] => [i * 1000 + k, k]))]);
    for (let i = 0; i < 300; i++) await write(i);
    const copy = join(dir, 'backups', 'copy.db');
    mkdirSync(join(dir, 'backups'));
    const heard: { bytes: number; estimatedBytes: number }[] = [];
    let writing = true;
    const during = (async () => {
      for (let i = 300; writing; i++) await write(i);
    })();
    const { bytes } = await store.backup(copy, { onProgress: (p) => void heard.push(p), progressIntervalMs: 1 });
    writing = false;
    await during;
    assert.ok(bytes > 0 && heard.length >= 1);
    assert.deepEqual(heard.at(-1), { bytes, estimatedBytes: bytes }, 'the last progress is the final size');
    const check = new Database(copy, { readonly: true });
    assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
    check.close();
    const restored = new SqliteStore({ path: copy, compactInWorker: false });
    const stats = await restored.stats();
    assert.ok(stats.points >= 300 * 200, `the copy holds at least what was written before it began: ${stats.points}`);
    assert.equal(stats.points % 200, 0, 'whole writes only (one transaction each)');
    await restored.close();
    await assert.rejects(store.backup(copy), /SqliteStore.backup: '.*copy.db' exists; give the path of a file that does not/);
    const memory = new SqliteStore({ path: ':memory:' });
    await memory.write([series('m', { h: 'a' }, [[1, 1]])]);
    const memoryCopy = join(dir, 'backups', 'memory.db');
    await memory.backup(memoryCopy);
    assert.deepEqual((await readAll(new SqliteStore({ path: memoryCopy }), { metric: 'm' }))[0]?.points, [[1, 1]]);
    await memory.close();
    await store.close();
  });

  it('lists metric names past a page of the index (10,000 names), whole and by prefix', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const names = Array.from({ length: 10_005 }, (_, i) => `n.${String(i).padStart(5, '0')}`);
    await store.write(names.map((name) => series(name, { h: 'a' }, [[1, 1]])));
    assert.deepEqual(await store.metricNames(), names);
    assert.deepEqual(await store.metricNames('n.0999'), names.slice(9990, 10_000));
    assert.deepEqual(await store.metricNames('n.1000'), names.slice(10_000));
    await store.close();
  });

  it('counts its points for stats() with turns for the event loop inside a long series', async () => {
    const store = new SqliteStore({ path: ':memory:', compactIntervalMs: 0 });
    const timestamps = Array.from({ length: 700_000 }, (_, i) => i + 1);
    await store.write([{ ...series('long', { h: 'a' }, []), timestamps, values: timestamps }]);
    await store.compact();
    let turns = 0;
    let counting = true;
    const tick = () => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    assert.deepEqual(await store.stats(), { series: 1, points: 700_000 });
    counting = false;
    assert.ok(turns >= 3, `${turns} turns while 700,000 points were counted (a turn per 200,000)`);
    await store.close();
  });

  it('hides expired points at once and purges them from the file', async () => {
    let t = 1_000_000;
    const store = new SqliteStore({ path: ':memory:', clock: () => t, purgeIntervalMs: 0 });
    await store.write([series('ttl', { h: 'a' }, [[1, 1]], { ttl: 10 }), series('ttl', { h: 'b' }, [[1, 1]])]);
    t += 10_000;
    assert.deepEqual((await readAll(store, { metric: 'ttl' })).map((s) => s.tags.h), ['b']);
    assert.deepEqual(await store.stats(), { series: 1, points: 1 });
    assert.equal(store.purgeExpired(), 1);
    assert.equal(store.purgeExpired(), 0);
    await store.close();
  });

  it('keeps numeric-looking strings as strings', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.write([series('s', { h: 'a' }, [[1, '12'], [2, '1.50']], { storage: 'string' })]);
    assert.deepEqual((await readAll(store, { metric: 's' }))[0]?.points, [[1, '12'], [2, '1.50']]);
    await store.close();
  });

  it('reads large series page by page', async () => {
    const store = new SqliteStore({ path: ':memory:', pageSize: 100 });
    const points: [number, number][] = Array.from({ length: 1050 }, (_, i) => [i, i * 2]);
    await store.write([series('paged', { h: 'a' }, points)]);
    let pages = 0;
    for await (const s of store.read({ metric: 'paged' })) for await (const _ of s.points()) pages++;
    assert.equal(pages, 11);
    assert.deepEqual((await readAll(store, { metric: 'paged' }))[0]?.points, points);
    assert.deepEqual((await readAll(store, { metric: 'paged', order: 'desc' }))[0]?.points, [...points].reverse());
    await store.close();
  });

  it('forgets the ids a failed write gave new series: a later series gets the id, the points stay apart', async () => {
    const path = join(dir, 'rolled-back.db');
    const store = new SqliteStore({ path, compactInWorker: false });
    const other = new Database(path);
    try {
      other.exec("CREATE TRIGGER refuse BEFORE INSERT ON recent BEGIN SELECT RAISE(ABORT, 'no room for the batch'); END");
      await assert.rejects(store.write([series('n', { h: 'a' }, [[1, 1]])]), /no room for the batch/);
      other.exec('DROP TRIGGER refuse');
      // 'm' gets the id the rolled-back write gave 'n'; 'n' then gets another.
      await store.write([series('m', { h: 'a' }, [[2, 2]])]);
      await store.write([series('n', { h: 'a' }, [[3, 3]])]);
      assert.deepEqual((await readAll(store, { metric: 'm' })).map((s) => s.points), [[[2, 2]]]);
      assert.deepEqual((await readAll(store, { metric: 'n' })).map((s) => s.points), [[[3, 3]]]);
    } finally {
      other.close();
      await store.close();
    }
  });

  it('answers 503-type errors after close', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.close();
    await assert.rejects(store.write([]), (e: { unavailable?: boolean }) => e.unavailable === true);
  });

  it('loses nothing when three processes write to one file at once', async () => {
    const path = join(dir, 'concurrent.db');
    new SqliteStore({ path }).close();
    const run = (writer: string) =>
      new Promise<void>((resolve, reject) => {
        const script = fileURLToPath(new URL('./sqlite-writer.ts', import.meta.url));
        const child = spawn(process.execPath, ['--import', 'tsx', script, path, writer, '200', '50'], { stdio: 'inherit' });
        child.once('error', reject).once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
      });
    await Promise.all([run('a'), run('b'), run('c')]);
    const store = new SqliteStore({ path });
    const got = await readAll(store, { metric: 'concurrent' });
    assert.deepEqual(got.map((s) => [s.tags.writer, s.points.length]), [['a', 10_000], ['b', 10_000], ['c', 10_000]]);
    await store.close();
  });
});
