import type Database from 'better-sqlite3';
import type { StorageKind } from '../../types/value-type.js';
import type { StoredRow } from './chunk-rows.js';

export interface SeriesRow {
  id: number;
  metric: string;
  type: string;
  storage: StorageKind;
  tags: string;
}

/** What tells a chunk's content apart over time: a merge gives new ids, a delete fewer points. */
export interface ChunkBounds {
  readonly id: number;
  readonly count: number;
  readonly first: number;
  readonly last: number;
}

interface ChunkRowWithId extends StoredRow {
  readonly id: number;
  readonly count: number;
}

/** What the store uses of a prepared statement. */
export interface Statement<P extends unknown[], R> {
  run(...params: P): { changes: number; lastInsertRowid: number | bigint };
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

function prepare<P extends unknown[] = unknown[], R = unknown>(db: Database.Database, sql: string): Statement<P, R> {
  return db.prepare<P, R>(sql);
}

/** Every statement of the SQLite store, prepared once. */
export function prepareStatements(db: Database.Database) {
  return {
    insertSeries: prepare<[string, string, string, string], { id: number }>(db, 'INSERT INTO series (metric, type, storage, tags) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id'),
    seriesId: prepare<[string, string, string], { id: number }>(db, 'SELECT id FROM series WHERE metric = ? AND type = ? AND tags = ?'),
    storageOf: prepare<[number], { storage: StorageKind }>(db, 'SELECT storage FROM series WHERE id = ?'),
    seriesPage: prepare<[number, number], SeriesRow>(db, 'SELECT id, metric, type, storage, tags FROM series WHERE id > ? ORDER BY id LIMIT ?'),
    deleteSeries: prepare(db, 'DELETE FROM series WHERE id = ?'),

    insertBatch: prepare<[Uint8Array, Uint8Array]>(db, 'INSERT INTO recent (dir, data) VALUES (?, ?)'),
    directories: prepare<[], { seq: number; dir: Uint8Array; taken: Uint8Array | null }>(
      db,
      'SELECT r.seq, r.dir, t.taken FROM recent r LEFT JOIN recent_taken t ON t.seq = r.seq ORDER BY r.seq',
    ),
    oldestSeqs: prepare<[number], { seq: number }>(db, 'SELECT seq FROM recent ORDER BY seq LIMIT ?'),
    oldestBatches: prepare<[number], { seq: number; dirBytes: number; dataBytes: number; taken: Uint8Array | null }>(
      db,
      'SELECT r.seq, length(r.dir) AS dirBytes, length(r.data) AS dataBytes, t.taken FROM recent r LEFT JOIN recent_taken t ON t.seq = r.seq ORDER BY r.seq LIMIT ?',
    ),
    backlog: prepare<[], { n: number }>(db, 'SELECT count(*) AS n FROM recent'),
    directoryOf: prepare<[number], { dir: Uint8Array; taken: Uint8Array | null; dataBytes: number }>(
      db,
      'SELECT r.dir, t.taken, length(r.data) AS dataBytes FROM recent r LEFT JOIN recent_taken t ON t.seq = r.seq WHERE r.seq = ?',
    ),
    batchData: prepare<[number], { data: Uint8Array }>(db, 'SELECT data FROM recent WHERE seq = ?'),
    takenOf: prepare<[number], { taken: Uint8Array }>(db, 'SELECT taken FROM recent_taken WHERE seq = ?'),
    setTaken: prepare<[number, Uint8Array]>(db, 'INSERT OR REPLACE INTO recent_taken (seq, taken) VALUES (?, ?)'),
    batchPart: prepare<[number, number, number], { part: Uint8Array }>(db, 'SELECT substr(data, ?, ?) AS part FROM recent WHERE seq = ?'),
    batch: prepare<[number], { dir: Uint8Array; data: Uint8Array }>(db, 'SELECT dir, data FROM recent WHERE seq = ?'),
    deleteBatch: prepare<[number]>(db, 'DELETE FROM recent WHERE seq = ?'),
    deleteTaken: prepare<[number]>(db, 'DELETE FROM recent_taken WHERE seq = ?'),
    updateBatchDir: prepare<[Uint8Array, number]>(db, 'UPDATE recent SET dir = ? WHERE seq = ?'),
    updateBatch: prepare<[Uint8Array, Uint8Array, number]>(db, 'UPDATE recent SET dir = ?, data = ? WHERE seq = ?'),

    insertChunk: prepare(db, 'INSERT INTO chunks (series_id, win, seq, first, last, count, expires, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    chunksOf: prepare<[number, number, number, number, number], ChunkRowWithId>(db, 
      'SELECT id, seq, first, last, count, data FROM chunks WHERE series_id = ? AND win BETWEEN ? AND ? AND last >= ? AND first <= ?',
    ),
    // The chunks of a page of series (ids as a JSON array): one statement instead of one per series.
    chunksOfMany: prepare<[string, number, number, number, number], ChunkRowWithId & { series_id: number }>(db,
      'SELECT series_id, id, seq, first, last, count, data FROM chunks WHERE series_id IN (SELECT value FROM json_each(?)) AND win BETWEEN ? AND ? AND last >= ? AND first <= ?',
    ),
    chunkBoundsOf: prepare<[number], { id: number; seq: number; first: number; last: number }>(db, 'SELECT id, seq, first, last FROM chunks WHERE series_id = ?'),
    chunkData: prepare<[number], { data: Uint8Array }>(db, 'SELECT data FROM chunks WHERE id = ?'),
    windowChunks: prepare<[number, number], ChunkRowWithId & { expires: number | null }>(db, 
      'SELECT id, seq, first, last, count, expires, data FROM chunks WHERE series_id = ? AND win = ?',
    ),
    windowChunkBounds: prepare<[number, number], ChunkBounds>(db, 'SELECT id, count, first, last FROM chunks WHERE series_id = ? AND win = ?'),
    batchState: prepare<[number], { dirBytes: number; dataBytes: number; taken: Uint8Array | null }>(
      db,
      'SELECT length(r.dir) AS dirBytes, length(r.data) AS dataBytes, t.taken FROM recent r LEFT JOIN recent_taken t ON t.seq = r.seq WHERE r.seq = ?',
    ),
    windowSize: prepare<[number, number], { n: number; points: number }>(db, 'SELECT count(*) AS n, sum(count) AS points FROM chunks WHERE series_id = ? AND win = ?'),
    fragmented: prepare<[], { series_id: number; win: number }>(db, 'SELECT series_id, win FROM chunks GROUP BY series_id, win HAVING count(*) > 1'),
    expiredWindows: prepare<[number], { series_id: number; win: number }>(db, 
      'SELECT DISTINCT series_id, win FROM chunks WHERE expires IS NOT NULL AND expires <= ?',
    ),
    deleteChunk: prepare(db, 'DELETE FROM chunks WHERE id = ?'),
    updateChunk: prepare(db, 'UPDATE chunks SET first = ?, last = ?, count = ?, expires = ?, data = ? WHERE id = ?'),
    deleteChunksOfSeries: prepare(db, 'DELETE FROM chunks WHERE series_id = ?'),

    ping: prepare(db, 'SELECT 1'),
    metaSet: prepare(db, 'INSERT OR REPLACE INTO metadata (service, service_key, key, value) VALUES (?, ?, ?, ?)'),
    metaGet: prepare<[string, string, string], { value: string }>(db, 'SELECT value FROM metadata WHERE service = ? AND service_key = ? AND key = ?'),
    metaServiceKeys: prepare<[string], { k: string }>(db, 'SELECT DISTINCT service_key AS k FROM metadata WHERE service = ? ORDER BY service_key'),
    metaKeys: prepare<[string, string], { k: string }>(db, 'SELECT key AS k FROM metadata WHERE service = ? AND service_key = ? ORDER BY key'),
    metaDelete: prepare(db, 'DELETE FROM metadata WHERE service = ? AND service_key = ? AND key = ?'),
    metaCount: prepare<[string, number], { n: number }>(db, 'SELECT COUNT(*) AS n FROM (SELECT 1 FROM metadata WHERE service = ? LIMIT ?)'),
    sharedGet: prepare<[string], { value: string }>(db, 'SELECT value FROM shared_values WHERE name = ?'),
    sharedSet: prepare(db, 'INSERT OR REPLACE INTO shared_values (name, value) VALUES (?, ?)'),
    sharedDelete: prepare(db, 'DELETE FROM shared_values WHERE name = ?'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
