import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { readAll, series } from '../src/store-api/conformance.js';
import { SqliteStore } from '../src/sqlite.js';
import { Handovers } from '../src/stores/sqlite/handover.js';
import { RecentBatches } from '../src/stores/sqlite/recent.js';
import { SeriesIds } from '../src/stores/sqlite/series-ids.js';
import { WriteLock } from '../src/stores/sqlite/write-lock.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
const dir = mkdtempSync(join(tmpdir(), 'koa-kairosdb-worker-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MB = 2 ** 20;

/** How much of the log is not yet copied into the file, or was since the log last started over (MB; asked at the end). */
function logSinceStart(path: string): number {
  const other = new Database(path);
  try {
    const [{ log }] = other.pragma('wal_checkpoint(PASSIVE)') as [{ log: number }];
    return (log * (other.pragma('page_size', { simple: true }) as number)) / MB;
  } finally {
    other.close();
  }
}
/** A write of 25,000 points (400 KB in its batch), request `r` after request `r - 1`. */
const request = (r: number) => Array.from({ length: 25 }, (_, s) => series('ckpt', { s: String(s) }, Array.from({ length: 1_000 }, (_, i): [number, number] => [(r * 1_000 + i) * 1_000, i])));

interface Opened {
  readonly store: SqliteStore;
  readonly connection: BetterSqlite3.Database;
  readonly worker: Worker;
  /** The write lock's cells ([0]: who holds it, 1 the worker). */
  readonly lock: Int32Array;
}

/**
 * Opens a store, keeping what these tests look at: its connection (the first better-sqlite3 connection opened
 * meanwhile), its compaction worker (the first worker a listener is added to) and its write lock.
 */
function openStore(path: string): Opened {
  const pragma = Database.prototype.pragma;
  const on = Worker.prototype.on;
  const memory = WriteLock.memory;
  let connection: BetterSqlite3.Database | undefined;
  let worker: Worker | undefined;
  let lock: Int32Array | undefined;
  WriteLock.memory = () => {
    const shared = memory();
    lock = new Int32Array(shared);
    return shared;
  };
  Database.prototype.pragma = function (this: BetterSqlite3.Database, ...args: Parameters<typeof pragma>) {
    connection ??= this;
    return pragma.apply(this, args);
  };
  Worker.prototype.on = function (this: Worker, ...args: Parameters<typeof on>) {
    worker ??= this;
    return on.apply(this, args);
  };
  try {
    // Compaction once a minute: no step runs during a test, so only checkpoints keep the log short.
    const store = new SqliteStore({ path, compactIntervalMs: 60_000 });
    assert.ok(connection && worker && lock, 'the store opened a connection and started a worker');
    return { store, connection, worker, lock };
  } finally {
    Database.prototype.pragma = pragma;
    Worker.prototype.on = on;
    WriteLock.memory = memory;
  }
}

/** Writes 100 requests back to back (40 MB in their batches): all of them stored, the log holds a few MB at the end. */
async function writeFortyMb(store: SqliteStore, path: string): Promise<void> {
  for (let r = 0; r < 100; r++) await store.write(request(r));
  const log = logSinceStart(path);
  assert.ok(log < 12, `${log.toFixed(1)} MB in the log after 40 MB written`);
  assert.deepEqual(await store.stats(), { series: 25, points: 2_500_000 });
}

describe('SqliteStore: the write-ahead log', { timeout: 60_000 }, () => {
  it('is copied into the file by the compaction worker, not in the host\'s writes: after 40 MB the log holds a few', async () => {
    const path = join(dir, 'worker.db');
    const { store, connection } = openStore(path);
    try {
      assert.equal(connection.pragma('wal_autocheckpoint', { simple: true }), 0, 'the store\'s own commits copy nothing');
      // The worker checkpoints once it has started (a loaded machine may start it after 100 writes otherwise).
      await store.init();
      await writeFortyMb(store, path);
    } finally {
      await store.close();
    }
  });

  it('is copied by the store\'s own commits again once the worker is gone', async () => {
    const path = join(dir, 'gone.db');
    const { store, connection, worker } = openStore(path);
    try {
      await worker.terminate();
      // The store hears of the exit in a turn of its event loop.
      for (const until = Date.now() + 5_000; connection.pragma('wal_autocheckpoint', { simple: true }) === 0 && Date.now() < until; ) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await writeFortyMb(store, path);
    } finally {
      await store.close();
    }
  });
});

/** Calls of a method of a class's prototype on this thread while `work` runs (a worker has its own copy of the class). */
async function counting<T extends object>(proto: T, method: keyof T & string, work: () => Promise<void>): Promise<number> {
  const original = proto[method] as (...args: unknown[]) => unknown;
  let calls = 0;
  (proto as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
    calls++;
    return original.apply(this, args);
  };
  try {
    await work();
  } finally {
    (proto as Record<string, unknown>)[method] = original;
  }
  return calls;
}

/**
 * Takes the write lock as the worker would (the worker may be in a compaction step of its own just now: taken once
 * it lets go, within 2 s).
 */
async function takeLock(lock: Int32Array): Promise<void> {
  let free = Atomics.compareExchange(lock, 0, 0, 1) === 0;
  for (let i = 0; !free && i < 400; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    free = Atomics.compareExchange(lock, 0, 0, 1) === 0;
  }
  assert.ok(free, 'the lock was let go within 2 s');
}

/** Lets go of the write lock taken as the worker would. */
function letGo(lock: Int32Array): void {
  Atomics.store(lock, 0, 0);
  Atomics.notify(lock, 0);
}

/**
 * Runs `work` on a store whose worker has started, with a first point (1, 1) of series `metric` {h: a} written
 * (its series registered by the worker), and closes it.
 */
async function started(metric: string, work: (opened: Opened & { path: string }) => Promise<void>): Promise<void> {
  const path = join(dir, `${metric}.db`);
  const opened = openStore(path);
  try {
    await opened.store.init();
    await opened.store.write([series(metric, { h: 'a' }, [[1, 1]])]);
    await work({ ...opened, path });
  } finally {
    await opened.store.close();
  }
}

describe('SqliteStore: writes done by the compaction worker', { timeout: 60_000 }, () => {
  it('hands a request over once the worker has started: in the file when the write resolves, nothing inserted here', () =>
    started('handed', async ({ store, path }) => {
      let handed = 0;
      const insertedHere = await counting(RecentBatches.prototype, 'insert', async () => {
        handed = await counting(Handovers.prototype, 'write', async () => {
          for (let r = 2; r <= 6; r++) await store.write([series('handed', { h: 'a' }, [[r, r]])]);
        });
      });
      assert.equal(handed, 5, 'every write handed over');
      assert.equal(insertedHere, 0, "the store's thread inserted nothing");
      const other = new Database(path, { readonly: true });
      assert.equal((other.prepare('SELECT count(*) AS n FROM recent').get() as { n: number }).n, 6, 'six batches in the file');
      other.close();
      assert.deepEqual((await readAll(store, { metric: 'handed' })).map((s) => s.points), [[[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6]]]);
    }));

  it('lets a delete of whole series wait for the batches handed over before it, and hands none over meanwhile', () =>
    started('deleted', async ({ store, lock }) => {
      // The lock taken as the worker would: the worker waits for it with the first write's batch.
      await takeLock(lock);
      let before: Promise<void> | undefined;
      let deleted: Promise<void> | undefined;
      let after: Promise<void> | undefined;
      let handed = 0;
      try {
        handed = await counting(Handovers.prototype, 'write', async () => {
          before = store.write([series('deleted', { h: 'a' }, [[2, 2]])]);
          deleted = store.delete({ metric: 'deleted' });
          after = store.write([series('deleted', { h: 'a' }, [[3, 3]])]); // the id the delete lets go is known here
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        letGo(lock);
      }
      await Promise.all([before, deleted, after]);
      assert.equal(handed, 1, 'the write before the delete was handed over, the one after it not');
      assert.deepEqual((await readAll(store, { metric: 'deleted' })).map((s) => s.points), [[[3, 3]]]);
    }));

  it("rejects a write the worker's insert failed (never resolves it) and stores nothing of it", () =>
    started('failed', async ({ store, path }) => {
      const other = new Database(path);
      other.exec("CREATE TRIGGER refuse BEFORE INSERT ON recent BEGIN SELECT RAISE(ABORT, 'no room for the batch'); END");
      const handed = await counting(Handovers.prototype, 'write', () => assert.rejects(store.write([series('failed', { h: 'a' }, [[2, 2]])]), /no room for the batch/));
      assert.equal(handed, 1, 'the write was handed over');
      other.exec('DROP TRIGGER refuse');
      other.close();
      await store.write([series('failed', { h: 'a' }, [[3, 3]])]);
      assert.deepEqual((await readAll(store, { metric: 'failed' })).map((s) => s.points), [[[1, 1], [3, 3]]]);
    }));

  it('has the worker add new series, thousands in a transaction, none on the store\'s thread; the ids are known after', () =>
    started('registered', async ({ store, path }) => {
      const many = Array.from({ length: 6000 }, (_, i) => series('registered', { h: 'b', id: String(i) }, [[2, i]]));
      let here = 0;
      const handed = await counting(Handovers.prototype, 'register', async () => {
        here = await counting(SeriesIds.prototype, 'register', () => store.write(many));
      });
      assert.equal(handed, 2, 'two slices (5,000 series each at most) handed over');
      assert.equal(here, 0, "the store's thread added none");
      const again = await counting(Handovers.prototype, 'register', () => store.write(many.slice(0, 100).map((s) => ({ ...s, timestamps: [3] }))));
      assert.equal(again, 0, 'their ids were known');
      const other = new Database(path, { readonly: true });
      assert.equal((other.prepare("SELECT count(*) AS n FROM series WHERE metric = 'registered'").get() as { n: number }).n, 6001);
      assert.equal((other.prepare("SELECT count(*) AS n FROM series_tags WHERE metric = 'registered' AND name = 'id'").get() as { n: number }).n, 6000, 'indexed');
      other.close();
      const got = await readAll(store, { metric: 'registered', tags: { id: ['4321'] } });
      assert.deepEqual(got.map((s) => [s.tags, s.points]), [[{ h: 'b', id: '4321' }, [[2, 4321]]]]);
      assert.deepEqual((await readAll(store, { metric: 'registered', tags: { id: ['99'] } }))[0]?.points, [[2, 99], [3, 99]]);
      // Known and new series mixed past a lookup slice (2,000).
      const mixed = [...many.slice(3000), ...Array.from({ length: 3000 }, (_, i) => series('registered', { h: 'c', id: String(i) }, [[4, -i]]))];
      const handedMixed = await counting(Handovers.prototype, 'register', () => store.write(mixed));
      assert.equal(handedMixed, 1, 'only the new ones handed over');
      assert.deepEqual((await readAll(store, { metric: 'registered', tags: { h: ['c'], id: ['7'] } })).map((s) => s.points), [[[4, -7]]]);
      assert.equal((await readAll(store, { metric: 'registered', tags: { h: ['c'] } })).length, 3000);
      assert.deepEqual((await readAll(store, { metric: 'registered', tags: { id: ['5999'] } })).map((s) => s.points), [[[2, 5999]]]);
    }));

  it("rejects a write whose new series the worker could not add, and stores nothing of it", () =>
    started('unregistered', async ({ store, path }) => {
      const other = new Database(path);
      other.exec("CREATE TRIGGER refuse BEFORE INSERT ON series BEGIN SELECT RAISE(ABORT, 'no room for the series'); END");
      const handed = await counting(Handovers.prototype, 'register', () => assert.rejects(store.write([series('unregistered', { h: 'new' }, [[2, 2]])]), /no room for the series/));
      assert.equal(handed, 1);
      other.exec('DROP TRIGGER refuse');
      other.close();
      assert.deepEqual((await readAll(store, { metric: 'unregistered' })).map((s) => s.tags), [{ h: 'a' }]);
      await store.write([series('unregistered', { h: 'new' }, [[3, 3]])]);
      assert.deepEqual((await readAll(store, { metric: 'unregistered', tags: { h: ['new'] } })).map((s) => s.points), [[[3, 3]]]);
    }));

  it('writes on its own thread what a worker that stopped had not answered, and what comes after', () =>
    started('stopped', async ({ store, worker, lock }) => {
      // Held as the worker would: the worker waits for it with the batch, and stops waiting.
      await takeLock(lock);
      const written = store.write([series('stopped', { h: 'a' }, [[2, 2]])]);
      try {
        await new Promise((resolve) => setTimeout(resolve, 20));
        await worker.terminate();
      } finally {
        letGo(lock);
      }
      await written;
      await store.write([series('stopped', { h: 'a' }, [[3, 3]])]);
      assert.deepEqual((await readAll(store, { metric: 'stopped' })).map((s) => s.points), [[[1, 1], [2, 2], [3, 3]]]);
    }));
});
