import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { series } from '../src/store-api/conformance.js';
import { SqliteStore } from '../src/sqlite.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
const dir = mkdtempSync(join(tmpdir(), 'koa-kairosdb-checkpoint-'));
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

/**
 * Opens a store, keeping what these tests look at: its connection (the first better-sqlite3 connection opened
 * meanwhile) and its compaction worker (the first worker a listener is added to).
 */
function openStore(path: string): { store: SqliteStore; connection: BetterSqlite3.Database; worker: Worker } {
  const pragma = Database.prototype.pragma;
  const on = Worker.prototype.on;
  let connection: BetterSqlite3.Database | undefined;
  let worker: Worker | undefined;
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
    assert.ok(connection && worker, 'the store opened a connection and started a worker');
    return { store, connection, worker };
  } finally {
    Database.prototype.pragma = pragma;
    Worker.prototype.on = on;
  }
}

/** Writes 100 requests back to back (40 MB in their batches): all of them stored, the log holds a few MB at the end. */
async function writeFortyMb(store: SqliteStore, path: string): Promise<void> {
  for (let r = 0; r < 100; r++) await store.write(request(r));
  const log = logSinceStart(path);
  assert.ok(log < 12, `${log.toFixed(1)} MB in the log after 40 MB written`);
  assert.deepEqual(await store.stats(), { series: 25, points: 2_500_000 });
}

describe('SqliteStore: the write-ahead log', () => {
  it('is copied into the file by the compaction worker, not in the host\'s writes: after 40 MB the log holds a few', async () => {
    const path = join(dir, 'worker.db');
    const { store, connection } = openStore(path);
    try {
      assert.equal(connection.pragma('wal_autocheckpoint', { simple: true }), 0, 'the store\'s own commits copy nothing');
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
