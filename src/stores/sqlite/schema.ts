import type Database from 'better-sqlite3';
import { ChunkCutter } from './chunk-rows.js';
import type { StorageKind } from '../../types/value-type.js';
import { fromSqlite } from './values.js';

/**
 * The layout this code reads and writes (`PRAGMA user_version`). 0 with a `points` table is the per-point layout;
 * 2 is the chunk layout without the series index (indexed when opened).
 */
export const LAYOUT = 3;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    metric TEXT NOT NULL,
    type TEXT NOT NULL,
    storage TEXT NOT NULL,
    tags TEXT NOT NULL,
    UNIQUE (metric, type, tags)
  );
  -- What writes append, one row (a batch) per request in write order (seq): the series' parts in data, where they
  -- are in dir. Compaction moves them into chunks.
  CREATE TABLE IF NOT EXISTS recent (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    dir BLOB NOT NULL,
    data BLOB NOT NULL
  );
  -- Which directory entries of a batch compaction has moved already (a byte per entry, 1 moved).
  CREATE TABLE IF NOT EXISTS recent_taken (
    seq INTEGER PRIMARY KEY,
    taken BLOB NOT NULL
  );
  -- Encoded points of one series in one window of time; seq orders overlapping chunks (the higher wrote later).
  CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL,
    win INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    count INTEGER NOT NULL,
    expires INTEGER,
    data BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS chunks_series ON chunks (series_id, win);
  CREATE INDEX IF NOT EXISTS chunks_expires ON chunks (expires) WHERE expires IS NOT NULL;
  -- The series index (series-index.ts): postings per (metric, tag name, tag value), and the metric names.
  CREATE INDEX IF NOT EXISTS series_by_metric ON series (metric, id);
  CREATE TABLE IF NOT EXISTS series_tags (
    metric TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    series_id INTEGER NOT NULL,
    PRIMARY KEY (metric, name, value, series_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS series_tags_metrics ON series_tags (name, value, metric);
  CREATE TABLE IF NOT EXISTS metrics (name TEXT PRIMARY KEY) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS metadata (
    service TEXT NOT NULL,
    service_key TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (service, service_key, key)
  ) WITHOUT ROWID;
`;

/** Values set by compare-and-set (the store's `coordination`): added beside any layout, which it leaves as it is. */
const SHARED = 'CREATE TABLE IF NOT EXISTS shared_values (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID';

/**
 * Creates the tables, or converts a database of an earlier layout: the per-point layout into chunks, and any earlier
 * layout gets its series index built from the series table (one transaction: a crash leaves the old layout whole;
 * it runs while the store is constructed, in time proportional to the series). A layout newer than this code's is refused, never
 * misread.
 */
export function prepareSchema(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > LAYOUT) {
    throw new Error(`SqliteStore: '${path}' has storage layout ${version}, newer than this version of koa-kairosdb reads (${LAYOUT}); upgrade koa-kairosdb`);
  }
  if (version === LAYOUT) return void db.exec(SHARED);
  const hasPoints = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'points'").get() !== undefined;
  db.transaction(() => {
    db.exec(SCHEMA);
    db.exec(SHARED);
    if (hasPoints) convertPoints(db);
    if (version > 0 || hasPoints) indexSeries(db);
    db.pragma(`user_version = ${LAYOUT}`);
  }).immediate();
}

/** Builds the series index of a database written before it existed. */
function indexSeries(db: Database.Database): void {
  const tag = db.prepare('INSERT OR IGNORE INTO series_tags (metric, name, value, series_id) VALUES (?, ?, ?, ?)');
  const page = db.prepare<[number], { id: number; metric: string; tags: string }>('SELECT id, metric, tags FROM series WHERE id > ? ORDER BY id LIMIT 10000');
  for (let rows = page.all(0); rows.length > 0; rows = page.all((rows.at(-1) as { id: number }).id)) {
    for (const { id, metric, tags } of rows) for (const [name, value] of JSON.parse(tags) as [string, string][]) tag.run(metric, name, value, id);
  }
  db.exec('INSERT OR IGNORE INTO metrics (name) SELECT DISTINCT metric FROM series');
}

/** Moves every series of the per-point `points` table into chunks, then drops the table. */
function convertPoints(db: Database.Database): void {
  const series = db.prepare<[], { id: number; storage: StorageKind }>('SELECT id, storage FROM series').all();
  const points = db.prepare<[number, number], { ts: number; value: unknown; expires: number | null }>(
    'SELECT ts, value, expires FROM points WHERE series_id = ? AND ts > ? ORDER BY ts LIMIT 65536',
  );
  const insert = db.prepare('INSERT INTO chunks (series_id, win, seq, first, last, count, expires, data) VALUES (?, ?, 0, ?, ?, ?, ?, ?)');
  for (const { id, storage } of series) {
    const cutter = new ChunkCutter(storage, (c) => insert.run(id, c.win, c.first, c.last, c.count, c.expires, c.data));
    let after = -Infinity;
    for (;;) {
      const rows = points.all(id, after);
      if (rows.length === 0) break;
      cutter.add({ timestamps: rows.map((r) => r.ts), values: rows.map((r) => fromSqlite(r.value, storage)), expires: rows.map((r) => r.expires ?? 0) });
      after = (rows.at(-1) as { ts: number }).ts;
    }
    cutter.flush();
  }
  db.exec('DROP TABLE points');
}
