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

interface ChunkRowWithId extends StoredRow {
  readonly id: number;
  readonly count: number;
}

/** What the store uses of a prepared statement. */
export interface Statement<P extends unknown[], R> {
  run(...params: P): { changes: number };
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

function prepare<P extends unknown[] = unknown[], R = unknown>(db: Database.Database, sql: string): Statement<P, R> {
  return db.prepare<P, R>(sql);
}

/** Every statement of the SQLite store, prepared once. */
export function prepareStatements(db: Database.Database) {
  return {
    insertSeries: prepare(db, 'INSERT INTO series (metric, type, storage, tags) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    seriesId: prepare<[string, string, string], { id: number }>(db, 'SELECT id FROM series WHERE metric = ? AND type = ? AND tags = ?'),
    seriesOf: prepare<[string], SeriesRow>(db, 'SELECT id, metric, type, storage, tags FROM series WHERE metric = ?'),
    storageOf: prepare<[number], { storage: StorageKind }>(db, 'SELECT storage FROM series WHERE id = ?'),
    allSeries: prepare<[], SeriesRow>(db, 'SELECT id, metric, type, storage, tags FROM series'),
    deleteSeries: prepare(db, 'DELETE FROM series WHERE id = ?'),

    insertRecent: prepare(db, 'INSERT INTO recent (series_id, first, last, count, expires, data) VALUES (?, ?, ?, ?, ?, ?)'),
    recentOf: prepare<[number, number, number], StoredRow & { count: number }>(db, 
      'SELECT seq, first, last, count, expires, data FROM recent WHERE series_id = ? AND last >= ? AND first <= ?',
    ),
    oldestRecent: prepare<[number], { series_id: number }>(db, 'SELECT series_id FROM recent ORDER BY seq LIMIT ?'),
    recentRows: prepare<[number, number], StoredRow & { count: number }>(db, 
      'SELECT seq, first, last, count, expires, data FROM recent WHERE series_id = ? ORDER BY seq LIMIT ?',
    ),
    deleteRecentUpTo: prepare(db, 'DELETE FROM recent WHERE series_id = ? AND seq <= ?'),
    deleteRecent: prepare(db, 'DELETE FROM recent WHERE seq = ?'),
    updateRecent: prepare(db, 'UPDATE recent SET first = ?, last = ?, count = ?, data = ? WHERE seq = ?'),
    deleteRecentOfSeries: prepare(db, 'DELETE FROM recent WHERE series_id = ?'),

    insertChunk: prepare(db, 'INSERT INTO chunks (series_id, win, seq, first, last, count, expires, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    chunksOf: prepare<[number, number, number, number, number], ChunkRowWithId>(db, 
      'SELECT id, seq, first, last, count, data FROM chunks WHERE series_id = ? AND win BETWEEN ? AND ? AND last >= ? AND first <= ?',
    ),
    windowChunks: prepare<[number, number], ChunkRowWithId & { expires: number | null }>(db, 
      'SELECT id, seq, first, last, count, expires, data FROM chunks WHERE series_id = ? AND win = ?',
    ),
    windowSize: prepare<[number, number], { n: number; points: number }>(db, 'SELECT count(*) AS n, sum(count) AS points FROM chunks WHERE series_id = ? AND win = ?'),
    fragmented: prepare<[], { series_id: number; win: number }>(db, 'SELECT series_id, win FROM chunks GROUP BY series_id, win HAVING count(*) > 1'),
    expiredWindows: prepare<[number], { series_id: number; win: number }>(db, 
      'SELECT DISTINCT series_id, win FROM chunks WHERE expires IS NOT NULL AND expires <= ?',
    ),
    deleteChunk: prepare(db, 'DELETE FROM chunks WHERE id = ?'),
    updateChunk: prepare(db, 'UPDATE chunks SET first = ?, last = ?, count = ?, expires = ?, data = ? WHERE id = ?'),
    deleteChunksOfSeries: prepare(db, 'DELETE FROM chunks WHERE series_id = ?'),

    metricNames: prepare<[number, number], { metric: string }>(db, 
      `SELECT DISTINCT metric FROM series s
       WHERE EXISTS (SELECT 1 FROM chunks c WHERE c.series_id = s.id AND (c.expires IS NULL OR c.expires > ?))
          OR EXISTS (SELECT 1 FROM recent r WHERE r.series_id = s.id AND (r.expires IS NULL OR r.expires > ?))
       ORDER BY metric`,
    ),
    ping: prepare(db, 'SELECT 1'),
    metaSet: prepare(db, 'INSERT OR REPLACE INTO metadata (service, service_key, key, value) VALUES (?, ?, ?, ?)'),
    metaGet: prepare<[string, string, string], { value: string }>(db, 'SELECT value FROM metadata WHERE service = ? AND service_key = ? AND key = ?'),
    metaServiceKeys: prepare<[string], { k: string }>(db, 'SELECT DISTINCT service_key AS k FROM metadata WHERE service = ? ORDER BY service_key'),
    metaKeys: prepare<[string, string], { k: string }>(db, 'SELECT key AS k FROM metadata WHERE service = ? AND service_key = ? ORDER BY key'),
    metaDelete: prepare(db, 'DELETE FROM metadata WHERE service = ? AND service_key = ? AND key = ?'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
