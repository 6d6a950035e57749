import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { readAll, series } from '../src/store-api/conformance.js';
import { MemoryStore } from '../src/index.js';
import { SqliteStore } from '../src/sqlite.js';
import { ChunkCutter, WINDOW_MS, type ChunkRow } from '../src/stores/sqlite/chunk-rows.js';
import { decodeChunk } from '../src/stores/chunk/codec.js';
import { BatchCache, type CachedBatch } from '../src/stores/sqlite/batch-cache.js';
import { Compactor } from '../src/stores/sqlite/compactor.js';
import { WriteLock } from '../src/stores/sqlite/write-lock.js';
import { prepareStatements } from '../src/stores/sqlite/statements.js';
import type { SeriesQuery, SeriesWrite } from '../src/store-api/contract.js';

const Database = createRequire(import.meta.url)('better-sqlite3');
const dir = mkdtempSync(join(tmpdir(), 'koa-kairosdb-chunks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Timestamps crowd a few spots, two of them across a window boundary, so writes overlap and chunks split.
const timestamp = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: WINDOW_MS - 20, max: WINDOW_MS + 20 }), fc.integer({ min: -3, max: 3 }).map((d) => 5 * WINDOW_MS + d));
// Mostly small longs; now and then one beyond ±(2^53−1), kept exactly as a BigInt through batches, merges and chunks.
const longValue = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: -50, max: 50 }) }, { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).filter((n) => n > 2n ** 53n || n < -(2n ** 53n)) });
const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), hosts: fc.constantFrom(['a'], ['b'], ['a', 'b'], ['b', 'a']), ttl: fc.constantFrom(0, 0, 1, 3), points: fc.array(fc.tuple(timestamp, longValue), { maxLength: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), host: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }), start: timestamp, span: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 3 }).map((s) => s * 1000) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('compact' as const, 'purge' as const) }) },
);

/** Writes and range deletes (of metric `m`, one host or all) done on the reference store and on SQLite alike. */
function bothStores(memory: MemoryStore, sqlite: SqliteStore) {
  return {
    async write(write: SeriesWrite[]) {
      await memory.write(write);
      await sqlite.write(write);
    },
    async delete(o: { host?: string | undefined; start: number; span: number }) {
      const query: SeriesQuery = { metric: 'm', start: o.start, end: o.start + o.span, ...(o.host ? { tags: { host: [o.host] } } : {}) };
      await memory.delete(query);
      await sqlite.delete(query);
    },
  };
}

describe('SqliteStore on chunks', () => {
  it('reads exactly what the memory store reads after any mix of writes, overwrites, TTLs, deletes, compaction and purges', async () => {
    let files = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), fc.constantFrom('asc' as const, 'desc' as const), fc.tuple(timestamp, fc.integer({ min: 0, max: 2 * WINDOW_MS })), async (ops, order, [from, span]) => {
        // Whole seconds: the memory store keeps expiry in whole seconds (as Cassandra), SQLite in ms.
        let now = 1_000_000;
        const clock = () => now;
        const memory = new MemoryStore({ clock });
        const sqlite = new SqliteStore({ path: join(dir, `p${++files}.db`), clock, compactIntervalMs: 0, purgeIntervalMs: 0, pageSize: 7 });
        const both = bothStores(memory, sqlite);
        try {
          for (const o of ops) {
            if (o.kind === 'write') {
              // A request carries a timestamp once per series (the ingest path keeps the last).
              const unique = [...new Map(o.points).entries()];
              // One request, one batch row: one or both series, each with its own points.
              const write = o.hosts.map((host, k) => series('m', { host }, k === 0 ? unique : unique.map(([t, v]): [number, number | bigint] => [t + 1, typeof v === 'bigint' ? -v : v * 2]), { ttl: o.ttl }));
              await both.write(write);
            } else if (o.kind === 'delete') await both.delete(o); else if (o.kind === 'advance') now += o.ms;
            else if (o.kind === 'compact') await sqlite.compact();
            else sqlite.purgeExpired();
          }
          // One host's series too: a read looking for a few series skips the batches whose ids are all outside them.
          for (const query of [{ metric: 'm', order }, { metric: 'm', order, start: from, end: from + span }, { metric: 'm', order, tags: { host: ['a'] } }, { metric: 'm', tags: { host: ['b'] } }] as SeriesQuery[]) {
            assert.deepEqual(await readAll(sqlite, query), await readAll(memory, query));
          }
          assert.deepEqual(await sqlite.metricNames(), await memory.metricNames());
          assert.deepEqual(await sqlite.stats(), await memory.stats?.());
          await sqlite.compact();
          assert.deepEqual(await readAll(sqlite, { metric: 'm', order }), await readAll(memory, { metric: 'm', order }));
        } finally {
          await sqlite.close();
          await memory.close();
        }
      }),
      {
        numRuns: 150,
        examples: [
          // Found by CI: a forever point hidden by a newer one that expired — the metric has no live point left.
          [[{ kind: 'write', hosts: ['a'], ttl: 0, points: [[35_999_999, 0]] }, { kind: 'write', hosts: ['b', 'a'], ttl: 1, points: [[35_999_998, 0]] }, { kind: 'advance', ms: 1000 }], 'asc', [7_199_980, 0]],
        ],
      },
    );
  });

  it('reads exactly what the memory store reads while a compaction worker moves points between writes, deletes and series ids used again', async () => {
    let files = 0;
    const storages = ['double', 'long', 'string'] as const;
    const workerOp = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), hosts: fc.constantFrom(['a'], ['b'], ['a', 'b', 'c']), storage: fc.constantFrom(...storages), points: fc.array(fc.tuple(timestamp, fc.integer({ min: -50, max: 50 })), { maxLength: 300 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), host: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }), start: timestamp, span: fc.integer({ min: 0, max: 30 }) }) },
      // A whole metric deleted: its series' ids are used again by the next series written (of another storage, maybe).
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 25 }) }) },
      // Until the worker has moved every batch.
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('settle' as const) }) },
    );
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await fc.assert(
      fc.asyncProperty(fc.array(workerOp, { minLength: 1, maxLength: 30 }), async (ops) => {
        const path = join(dir, `w${++files}.db`);
        const memory = new MemoryStore();
        // The worker looks for work every ms and moves small batches after 20 ms.
        const sqlite = new SqliteStore({ path, compactIntervalMs: 1 });
        const both = bothStores(memory, sqlite);
        const db = new Database(path, { readonly: true });
        const waiting = () => (db.prepare('SELECT count(*) AS n FROM recent').get() as { n: number }).n;
        const settle = async () => {
          for (const until = Date.now() + 5000; waiting() > 0 && Date.now() < until; ) await sleep(5);
          assert.equal(waiting(), 0, 'the worker moved every batch');
        };
        try {
          for (const o of ops) {
            if (o.kind === 'write') {
              const unique = [...new Map(o.points).entries()];
              const points = (k: number) => unique.map(([t, v]): [number, number | string] => [t + k, o.storage === 'string' ? `s${v * (k + 1)}` : v * (k + 1)]);
              await both.write(o.hosts.map((host, k) => series('m', { host }, points(k), { storage: o.storage })));
            } else if (o.kind === 'delete') await both.delete(o);
            else if (o.kind === 'drop') {
              await memory.delete({ metric: 'm' });
              await sqlite.delete({ metric: 'm' });
            } else if (o.kind === 'pause') await sleep(o.ms);
            else await settle();
          }
          assert.deepEqual(await readAll(sqlite, { metric: 'm' }), await readAll(memory, { metric: 'm' }));
          // Everything moved by the worker: the same points from chunks alone.
          await settle();
          assert.deepEqual(await readAll(sqlite, { metric: 'm' }), await readAll(memory, { metric: 'm' }));
        } finally {
          db.close();
          await sqlite.close();
          await memory.close();
        }
      }),
      {
        numRuns: 25,
        examples: [
          // A series moved by the worker, its metric deleted, its id taken by a series of text: the worker must not
          // take the text for numbers.
          [[{ kind: 'write', hosts: ['a'], storage: 'double', points: [[1, 1], [2, 2]] }, { kind: 'settle' }, { kind: 'drop' }, { kind: 'write', hosts: ['a'], storage: 'string', points: [[3, 3]] }]],
        ],
      },
    );
  });

  it('writes a batch packed before a delete let its series go under the series written anew, not the deleted id', async () => {
    // The store's write lock, taken here as the worker would: the delete and then the write wait for it.
    const memory = WriteLock.memory;
    let cells: Int32Array | undefined;
    WriteLock.memory = () => {
      const shared = memory();
      cells = new Int32Array(shared);
      return shared;
    };
    const store = new SqliteStore({ path: join(dir, 'packed.db'), compactIntervalMs: 60_000 });
    WriteLock.memory = memory;
    try {
      await store.write([series('p', { h: 'a' }, [[1, 1]])]);
      assert.equal(Atomics.compareExchange(cells as Int32Array, 0, 0, 1), 0, 'the lock was free');
      const deleted = store.delete({ metric: 'p' });
      const written = store.write([series('p', { h: 'a' }, [[2, 2]])]); // packed now, with the id the delete lets go
      await new Promise((resolve) => setTimeout(resolve, 20));
      Atomics.store(cells as Int32Array, 0, 0);
      Atomics.notify(cells as Int32Array, 0);
      await Promise.all([deleted, written]);
      assert.deepEqual((await readAll(store, { metric: 'p' })).map((s) => s.points), [[[2, 2]]]);
    } finally {
      await store.close();
    }
  });

  it('compacts in a worker thread unless told not to: the store\'s own thread then moves nothing', async () => {
    const movedHere = async (compactInWorker: boolean) => {
      const path = join(dir, `thread-${compactInWorker}.db`);
      const store = new SqliteStore({ path, compactIntervalMs: 10, compactInWorker });
      let calls = 0;
      // Patched on this thread's class only: a worker loads its own copy of the module.
      const original = Compactor.prototype.moveRecent;
      Compactor.prototype.moveRecent = function (now: boolean) {
        calls++;
        return original.call(this, now);
      };
      try {
        for (let r = 0; r < 70; r++) await store.write(Array.from({ length: 20 }, (_, s) => series('thread', { s: String(s) }, Array.from({ length: 10 }, (_, i): [number, number] => [(r * 10 + i) * 1000, i]))));
        const db = new Database(path, { readonly: true });
        const waiting = () => (db.prepare('SELECT count(*) AS n FROM recent').get() as { n: number }).n;
        for (const until = Date.now() + 10_000; waiting() > 0 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 10));
        assert.equal(waiting(), 0, 'every batch moved');
        db.close();
        assert.deepEqual(await store.stats(), { series: 20, points: 14_000 });
      } finally {
        Compactor.prototype.moveRecent = original;
        await store.close();
      }
      return calls;
    };
    assert.equal(await movedHere(true), 0, 'a worker moved the points');
    assert.ok((await movedHere(false)) > 0, 'without a worker, this thread moved them');
  });

  it('reads exactly what the memory store reads while compaction runs step by step between large writes and range deletes', async () => {
    let files = 0;
    // Parts of thousands of points, so a step (16,384 points) moves some series of some batches and leaves the rest.
    const big = fc.record({
      kind: fc.constant('write' as const),
      hosts: fc.constantFrom(['a'], ['a', 'b', 'c']),
      start: fc.integer({ min: 0, max: 40 }).map((k) => k * 500),
      count: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 9000 }) }, fc.integer({ min: 16_000, max: 40_000 })),
    });
    const step = fc.oneof(
      { weight: 4, arbitrary: big },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), host: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }), start: fc.integer({ min: 0, max: 25_000 }), span: fc.integer({ min: 0, max: 3000 }) }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('step' as const) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (ops) => {
        const memory = new MemoryStore();
        const sqlite = new SqliteStore({ path: join(dir, `s${++files}.db`), compactIntervalMs: 0, purgeIntervalMs: 0 });
        const both = bothStores(memory, sqlite);
        try {
          let writes = 0;
          for (const o of ops) {
            if (o.kind === 'write') {
              writes++;
              const write = o.hosts.map((host, k) =>
                series('m', { host }, Array.from({ length: o.count }, (_, i): [number, number] => [o.start + i * 3 + k, writes * 100_000 + i]), { storage: 'long' }),
              );
              await both.write(write);
            } else if (o.kind === 'delete') await both.delete(o); else sqlite.compactStep();
          }
          assert.deepEqual(await readAll(sqlite, { metric: 'm' }), await readAll(memory, { metric: 'm' }));
          while (sqlite.compactStep());
          assert.deepEqual(await readAll(sqlite, { metric: 'm' }), await readAll(memory, { metric: 'm' }));
          assert.deepEqual(await sqlite.stats(), await memory.stats?.());
        } finally {
          await sqlite.close();
          await memory.close();
        }
      }),
      {
        numRuns: 60,
        examples: [
          // Found while building pieces: a piece of a newer part in one chunk with an older part gave the older part's
          // points the newer seq, so they tied with the newer part's rest.
          [[{ kind: 'write', hosts: ['a'], start: 12_000, count: 6193 }, { kind: 'write', hosts: ['a'], start: 0, count: 16_000 }, { kind: 'step' }]],
        ],
      },
    );
  });

  it('cuts spans read in place from a batch across windows, and a cutter emptied after a failed step emits nothing of it', () => {
    const rows: ChunkRow[] = [];
    const cutter = new ChunkCutter('double', (row) => rows.push(row));
    // One part in a batch's data: three timestamps (the last in the next window), then their values.
    const columns = Float64Array.from([7, 7, 1000, 2000, WINDOW_MS + 1, 1.5, 2.5, 3.5]);
    cutter.addSpan(columns, 2, 5, 3, 0);
    cutter.flush();
    assert.deepEqual(rows.map((r) => [r.win, r.first, r.last, r.count]), [[0, 1000, 2000, 2], [1, WINDOW_MS + 1, WINDOW_MS + 1, 1]]);
    assert.deepEqual(Array.from(decodeChunk(rows[0]!.data).values), [1.5, 2.5]);
    rows.length = 0;
    cutter.addSpan(columns, 2, 5, 2, 0); // a step that fails before its flush
    cutter.discard();
    cutter.addSpan(Float64Array.from([3000, 4.5]), 0, 1, 1, 0);
    cutter.flush();
    assert.deepEqual(rows.map((r) => [r.first, r.count]), [[3000, 1]]);
  });

  it('appends one row per request, and compacts its series into one chunk per series and window', async () => {
    const path = join(dir, 'layout.db');
    const store = new SqliteStore({ path, compactIntervalMs: 0 });
    for (let r = 0; r < 20; r++) {
      await store.write([series('l', { h: 'a' }, [[r * 10, r], [r * 10 + 5, r]]), series('l', { h: 'b' }, [[WINDOW_MS + r, r]])]);
    }
    const db = new Database(path, { readonly: true });
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    assert.deepEqual([count('recent'), count('chunks')], [20, 0]);
    await store.compact();
    assert.deepEqual([count('recent'), count('chunks')], [0, 2]);
    assert.deepEqual(
      db.prepare('SELECT win, count FROM chunks ORDER BY win').all(),
      [{ win: 0, count: 40 }, { win: 1, count: 20 }],
    );
    db.close();
    assert.equal((await readAll(store, { metric: 'l' }))[0]?.points.length, 40);
    await store.close();
  });

  it('reopened on a backlog of batches, reads every point both while it learns their directories and after', async () => {
    const path = join(dir, 'learn.db');
    const first = new SqliteStore({ path, compactIntervalMs: 0 });
    for (let r = 0; r < 30; r++) {
      await first.write(Array.from({ length: 50 }, (_, k) => series('n', { id: `${r * 50 + k}`, h: `${k % 3}` }, [[r, r]])));
    }
    await first.write([series('n', { id: '7', h: '1' }, [[100, 7]])]);
    await first.close();
    const points = async (store: SqliteStore, tags?: Record<string, string[]>) =>
      (await readAll(store, { metric: 'n', ...(tags && { tags }) })).reduce((n, s) => n + s.points.length, 0);
    // Read at once (the directories not learnt yet), then after the background has read them.
    const at = new SqliteStore({ path, compactIntervalMs: 0 });
    assert.deepEqual([await points(at, { id: ['7'] }), await points(at, { id: ['1499'] })], [2, 1]);
    await at.close();
    const later = new SqliteStore({ path, compactIntervalMs: 0 });
    for (let i = 0; i < 40; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([await points(later, { id: ['7'] }), await points(later, { id: ['1499'] }), await points(later, { h: ['2'] }), await points(later)], [2, 1, 480, 1501]);
    await later.write([series('n', { id: '1499', h: '2' }, [[200, 1]])]);
    assert.equal(await points(later, { id: ['1499'] }), 2);
    await later.close();
  });

  it('compacts a request larger than one step in several steps, keeping the rest of its batch', async () => {
    const path = join(dir, 'steps.db');
    const store = new SqliteStore({ path, compactIntervalMs: 0 });
    const points: [number, number][] = Array.from({ length: 500 }, (_, i) => [i * 1000, i]);
    await store.write(Array.from({ length: 200 }, (_, s) => series('steps', { s: String(s).padStart(3, '0') }, points.map(([t, v]) => [t, v + s]))));
    const db = new Database(path, { readonly: true });
    const parts = () => (db.prepare('SELECT dir FROM recent').all() as { dir: Buffer }[]).reduce((n, r) => n + r.dir.length / 56, 0);
    assert.equal(parts(), 200);
    const before = await readAll(store, { metric: 'steps' });
    // One step by hand, on a second connection: part of the batch moved, the rest still read from it.
    const other = new Database(path);
    assert.ok(new Compactor(other, prepareStatements(other), Date.now).moveRecent(true) < 100_000);
    other.close();
    assert.ok(parts() === 200 && (db.prepare('SELECT count(*) AS n FROM recent_taken').get() as { n: number }).n === 1);
    assert.ok((db.prepare('SELECT count(*) AS n FROM chunks').get() as { n: number }).n > 0);
    assert.deepEqual(await readAll(store, { metric: 'steps' }), before);
    assert.deepEqual(await store.stats(), { series: 200, points: 100_000 });
    await store.compact();
    assert.equal(parts(), 0);
    assert.equal((db.prepare('SELECT count(*) AS n FROM chunks').get() as { n: number }).n, 200);
    db.close();
    assert.deepEqual(await readAll(store, { metric: 'steps' }), before);
    assert.equal(before[7]?.points[499]?.[1], 499 + 7);
    await store.close();
  });

  describe('a step prepared from the file while another writer changes it is not committed', () => {
    // The other writer's delete runs when the step asks for the write lock, between its reads and its commit (with
    // no compaction interval the store has no lock, and its delete runs its transaction before the call returns).
    const deletingFirst = (store: SqliteStore, query: SeriesQuery) => {
      let asked = 0;
      return { exclusive: <T>(work: () => T): T => (asked++ === 0 && void store.delete(query), work()), idsChanged: () => false };
    };
    const points: [number, number][] = Array.from({ length: 100 }, (_, i) => [i * 1000, i]);
    const kept = points.filter(([t]) => t < 10_000 || t > 19_000);

    it('a move from a batch a delete rewrote: prepared again, no deleted point comes back', async () => {
      const path = join(dir, 'stale-move.db');
      const store = new SqliteStore({ path, compactIntervalMs: 0 });
      await store.write([series('stale', { h: 'a' }, points)]);
      const other = new Database(path);
      const compactor = new Compactor(other, prepareStatements(other), Date.now, 10_000, deletingFirst(store, { metric: 'stale', start: 10_000, end: 19_000 }));
      assert.equal(compactor.moveRecent(true), 90, 'the step moved what the batch held after the delete');
      other.close();
      assert.deepEqual((await readAll(store, { metric: 'stale' }))[0]?.points, kept);
      await store.close();
    });

    it('a merge of a window whose chunk a delete rewrote: merged again, no deleted point comes back', async () => {
      const path = join(dir, 'stale-merge.db');
      const store = new SqliteStore({ path, compactIntervalMs: 0 });
      const other = new Database(path);
      // Two requests, each moved into a chunk of its own (a merge waits for more).
      await store.write([series('stale', { h: 'a' }, points.slice(0, 50))]);
      new Compactor(other, prepareStatements(other), Date.now).moveRecent(true);
      await store.write([series('stale', { h: 'a' }, points.slice(50))]);
      new Compactor(other, prepareStatements(other), Date.now).moveRecent(true);
      const chunks = () => other.prepare('SELECT count(*) AS n, sum(count) AS points FROM chunks WHERE series_id = 1 AND win = 0').get();
      assert.deepEqual(chunks(), { n: 2, points: 100 });
      const compactor = new Compactor(other, prepareStatements(other), Date.now, 10_000, deletingFirst(store, { metric: 'stale', start: 10_000, end: 19_000 }));
      compactor.mergeWindow(1, 0);
      assert.deepEqual(chunks(), { n: 1, points: 90 });
      other.close();
      assert.deepEqual((await readAll(store, { metric: 'stale' }))[0]?.points, kept);
      await store.close();
    });
  });

  it('sees what another connection to the file writes and compacts between its reads', async () => {
    const path = join(dir, 'shared.db');
    const a = new SqliteStore({ path, compactIntervalMs: 0 });
    const b = new SqliteStore({ path, compactIntervalMs: 0 });
    await a.write([series('shared', { h: 'a' }, [[1, 1]])]);
    assert.deepEqual((await readAll(b, { metric: 'shared' })).map((s) => s.points), [[[1, 1]]]);
    await b.write([series('shared', { h: 'a' }, [[2, 2]])]);
    assert.deepEqual((await readAll(a, { metric: 'shared' })).map((s) => s.points), [[[1, 1], [2, 2]]]);
    await b.compact();
    await b.write([series('shared', { h: 'a' }, [[1, 10]])]);
    assert.deepEqual((await readAll(a, { metric: 'shared' })).map((s) => s.points), [[[1, 10], [2, 2]]]);
    await a.close();
    await b.close();
  });

  it('deletes a range from a batch compaction has half moved: moved and unmoved series alike', async () => {
    const path = join(dir, 'half-delete.db');
    const store = new SqliteStore({ path, compactIntervalMs: 0 });
    const points: [number, number][] = Array.from({ length: 500 }, (_, i) => [i * 1000, i]);
    await store.write(Array.from({ length: 200 }, (_, s) => series('hd', { s: String(s).padStart(3, '0') }, points)));
    const other = new Database(path);
    new Compactor(other, prepareStatements(other), Date.now).moveRecent(true);
    other.close();
    await store.delete({ metric: 'hd', start: 100_000, end: 199_000 });
    const expected = points.filter(([t]) => t < 100_000 || t > 199_000);
    const check = async () => {
      const got = await readAll(store, { metric: 'hd' });
      assert.equal(got.length, 200);
      for (const s of got) assert.deepEqual(s.points, expected);
    };
    await check();
    await store.compact();
    await check();
    await store.close();
  });

  it('compacts in the background, in steps, without being asked', async () => {
    const path = join(dir, 'background.db');
    const store = new SqliteStore({ path, compactIntervalMs: 20 });
    const points: [number, number][] = Array.from({ length: 100 }, (_, i) => [i * 1000, i]);
    // 5 × 64 requests: every batch is moved as soon as 64 wait, without waiting longer.
    for (let s = 0; s < 320; s++) await store.write([series('bg', { s: String(s) }, points)]);
    const db = new Database(path, { readonly: true });
    const recent = () => (db.prepare('SELECT count(*) AS n FROM recent').get() as { n: number }).n;
    const deadline = Date.now() + 10_000;
    while (recent() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(recent(), 0);
    db.close();
    assert.deepEqual(await store.stats(), { series: 320, points: 32_000 });
    await store.close();
  });

  it('moves a part larger than a step in pieces, each step a bounded one, while writes keep coming', async () => {
    const path = join(dir, 'pieces.db');
    const store = new SqliteStore({ path, compactIntervalMs: 0 });
    const db = new Database(path, { readonly: true });
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    await store.write([series('huge', { s: 'a' }, Array.from({ length: 100_000 }, (_, i): [number, number] => [i * 10, i]))]);
    const expected = await readAll(store, { metric: 'huge' });
    let steps = 0;
    let most = 0;
    for (let more = true; more; steps++) {
      const before = count('SELECT coalesce(sum(count), 0) AS n FROM chunks');
      more = store.compactStep();
      most = Math.max(most, count('SELECT coalesce(sum(count), 0) AS n FROM chunks') - before);
      // A small write between steps changes the oldest batches (fewer than 64): the piece moved so far is kept.
      if (more && steps % 2 === 0) await store.write([series('other', { s: String(steps) }, [[steps, steps]])]);
      assert.deepEqual(await readAll(store, { metric: 'huge' }), expected, `after step ${steps + 1}`);
      assert.ok(steps < 40, 'finishes');
    }
    assert.ok(most <= 16_384, `a step moved ${most} points`);
    assert.ok(steps >= 7, `${steps} steps`);
    assert.equal(count('SELECT count(*) AS n FROM recent'), 0);
    assert.equal(count("SELECT coalesce(sum(c.count), 0) AS n FROM chunks c JOIN series s ON s.id = c.series_id WHERE s.metric = 'huge'"), 100_000, 'each point moved once');
    db.close();
    await store.close();
  });

  it('keeps the batches compaction works through only while they exist unchanged in the file', async () => {
    const path = join(dir, 'cache.db');
    const store = new SqliteStore({ path, compactIntervalMs: 0 });
    for (let r = 0; r < 3; r++) await store.write([series('cache', { r: String(r) }, [[r, r], [r + 10, r]])]);
    const db = new Database(path);
    const sql = prepareStatements(db);
    const cache = new BatchCache(sql);
    const seqs = () => cache.oldest(64).map((b) => b.seq);
    const [first, middle, last] = seqs() as [number, number, number];
    for (const batch of cache.oldest(64)) cache.data(batch);
    const size = cache.bytes;
    assert.ok(size > 0);
    // A batch gone from the middle (all its parts moved) leaves the cache with its data.
    sql.deleteBatch.run(middle);
    assert.deepEqual(seqs(), [first, last]);
    assert.equal(cache.bytes, (size / 3) * 2);
    // Another connection's write adds a batch: the ones kept stay.
    const [held, other] = cache.oldest(64) as [CachedBatch, CachedBatch];
    await store.write([series('cache', { r: 'x' }, [[9, 9]])]);
    const after = cache.oldest(64);
    assert.equal(after.length, 3);
    assert.equal(after[0], held, 'kept after another connection added a batch');
    assert.equal(cache.bytes, (size / 3) * 2);
    // Another connection marks a part moved, or rewrites a batch (a range delete): that batch is read again.
    const marks = new Uint8Array(held.taken.length).fill(1);
    const db2 = new Database(path);
    db2.prepare('INSERT OR REPLACE INTO recent_taken (seq, taken) VALUES (?, ?)').run(held.seq, marks);
    const [reread, same] = cache.oldest(64) as [CachedBatch, CachedBatch];
    assert.notEqual(reread, held, 'read again after another connection marked a part moved');
    assert.deepEqual([...reread.taken], [...marks]);
    assert.equal(same, other, 'the unchanged batch kept');
    await store.delete({ metric: 'cache', tags: { r: ['2'] }, start: 0, end: 5 });
    const rewritten = cache.oldest(64)[1] as CachedBatch;
    assert.equal(rewritten.seq, other.seq);
    assert.notEqual(rewritten, other, 'read again after a range delete rewrote it');
    db2.close();
    db.close();
    await store.close();
  });

  it('leaves requests with few points per series waiting for more (up to 20 intervals), moves larger ones at once', async () => {
    const path = join(dir, 'waiting.db');
    const store = new SqliteStore({ path, compactIntervalMs: 50 });
    const db = new Database(path, { readonly: true });
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // 3 requests of 100 series × 10 points: too few per series to be worth a chunk each.
    for (let r = 0; r < 3; r++) {
      await store.write(Array.from({ length: 100 }, (_, s) => series('few', { s: String(s) }, Array.from({ length: 10 }, (_, i): [number, number] => [(r * 10 + i) * 1000, i]))));
    }
    const written = Date.now();
    await sleep(300);
    assert.equal(count('recent'), 3, 'still waiting after 6 intervals');
    assert.equal(count('chunks'), 0);
    const deadline = written + 10_000;
    while (count('recent') > 0 && Date.now() < deadline) await sleep(20);
    assert.equal(count('recent'), 0, 'moved after waiting');
    assert.ok(Date.now() - written >= 20 * 50 - 100, `moved after ${Date.now() - written} ms`);
    assert.equal(count('chunks'), 100, 'one chunk per series for the three requests');
    // One request of 2 series × 1,000 points is moved without waiting.
    await store.write(['a', 'b'].map((s) => series('many', { s }, Array.from({ length: 1000 }, (_, i): [number, number] => [i * 1000, i]))));
    const moved = Date.now() + 900;
    while (count('recent') > 0 && Date.now() < moved) await sleep(10);
    assert.equal(count('recent'), 0, 'large parts moved within a few intervals');
    db.close();
    assert.deepEqual(await store.stats(), { series: 102, points: 5000 });
    await store.close();
  });

  it('makes writes move points themselves when the background falls behind (over 128 batches waiting), unless compaction is the host\'s', async () => {
    const backlog = async (compactIntervalMs: number) => {
      const path = join(dir, `behind-${compactIntervalMs}.db`);
      // An interval that never comes within the test: only the writes can move anything.
      const store = new SqliteStore({ path, compactIntervalMs });
      for (let r = 0; r < 300; r++) await store.write([series('behind', { s: String(r % 7) }, Array.from({ length: 10 }, (_, i): [number, number] => [(r * 10 + i) * 1000, r])), series('behind', { s: 'x' }, [[r * 1000, r]])]);
      const db = new Database(path, { readonly: true });
      const rows = (db.prepare('SELECT count(*) AS n FROM recent').get() as { n: number }).n;
      db.close();
      assert.deepEqual(await store.stats(), { series: 8, points: 3300 });
      await store.close();
      return rows;
    };
    const kept = await backlog(3_600_000);
    assert.ok(kept <= 129, `${kept} batches waiting`);
    assert.equal(await backlog(0), 300);
  });

  it('converts a database in the per-point layout on open, and refuses a layout it does not know', async () => {
    const path = join(dir, 'old.db');
    const old = new Database(path);
    old.exec(`
      CREATE TABLE series (id INTEGER PRIMARY KEY, metric TEXT NOT NULL, type TEXT NOT NULL, storage TEXT NOT NULL, tags TEXT NOT NULL, UNIQUE (metric, type, tags));
      CREATE TABLE points (series_id INTEGER NOT NULL REFERENCES series (id), ts INTEGER NOT NULL, value BLOB, expires INTEGER, PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
      CREATE INDEX points_expires ON points (expires) WHERE expires IS NOT NULL;
      CREATE TABLE metadata (service TEXT NOT NULL, service_key TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (service, service_key, key)) WITHOUT ROWID;
    `);
    old.prepare("INSERT INTO series VALUES (1, 'old', 'long', 'long', '[[\"h\",\"a\"]]'), (2, 'old', 'string', 'string', '[[\"h\",\"a\"]]'), (3, 'old', 'double', 'double', '[[\"h\",\"b\"]]')").run();
    const insert = old.prepare('INSERT INTO points VALUES (?, ?, ?, ?)');
    for (let i = 0; i < 10_000; i++) insert.run(1, i * 1000, i, null);
    insert.run(2, 5, 'text', null);
    insert.run(3, 7, 1.5, 5_000);
    insert.run(3, 8, 2.5, null);
    old.prepare("INSERT INTO metadata VALUES ('s', 'k', 'key', 'v')").run();
    old.close();

    const store = new SqliteStore({ path, clock: () => 6_000 });
    const got = await readAll(store, { metric: 'old' });
    assert.deepEqual(got.map((s) => [s.tags.h, s.type, s.points.length]), [['a', 'long', 10_000], ['a', 'string', 1], ['b', 'double', 1]]);
    assert.deepEqual(got[0]?.points.slice(0, 3), [[0, 0], [1000, 1], [2000, 2]]);
    assert.deepEqual(got[1]?.points, [[5, 'text']]);
    assert.deepEqual(got[2]?.points, [[8, 2.5]]);
    assert.equal(await store.metadata?.get('s', 'k', 'key'), 'v');
    await store.close();
    const db = new Database(path);
    assert.equal(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'points'").get().n, 0);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => new SqliteStore({ path }), /has storage layout 99, newer than this version of koa-kairosdb reads \(3\); upgrade koa-kairosdb/);
  });

  it('builds the series index of a database of layout 2 (chunks without the index) when it is opened', async () => {
    const path = join(dir, 'layout2.db');
    const first = new SqliteStore({ path, compactInWorker: false });
    await first.write([series('m', { h: 'a', id: '1' }, [[1, 1]]), series('m', { h: 'b', id: '2' }, [[1, 2]]), series('other', { h: 'a' }, [[1, 3]])]);
    await first.close();
    const db = new Database(path);
    db.exec('DROP TABLE series_tags; DROP TABLE metrics; DROP INDEX series_by_metric');
    db.pragma('user_version = 2');
    db.close();
    const store = new SqliteStore({ path, compactInWorker: false });
    assert.deepEqual(await store.metricNames(), ['m', 'other']);
    assert.deepEqual((await readAll(store, { metric: 'm', tags: { id: ['2'] } })).map((s) => s.points), [[[1, 2]]]);
    assert.equal(await store.countSeries({ metric: 'm', tags: { h: ['a', 'b'] } }, 10), 2);
    await store.close();
    const after = new Database(path);
    assert.equal(after.pragma('user_version', { simple: true }), 3);
    after.close();
  });
});
