import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { optionError, rejectUnknownKeys } from '../option-keys.js';
import { requirePeer } from '../optional-peer.js';
import type { MetadataStore, PointPage, SeriesQuery, SeriesRead, SeriesWrite, Store, StoreCapabilities, Tags } from '../store-api/contract.js';
import { fromDriverBytes, toDriverValue } from '../store-api/bytes.js';
import { matchesTags, rangeOf, tagsFrom, tagsKey } from '../store-api/series-key.js';
import { StoreUnavailableError } from '../store-api/unavailable.js';
import type { StorageKind, StoredValue } from '../types/value-type.js';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file, created with its directory if missing; `':memory:'` keeps everything in memory (lost on exit). */
  path: string;
  /** How often expired points are deleted, in ms; 0 never. @default 60000 */
  purgeIntervalMs?: number;
  /** Points read per page. @default 10000 */
  pageSize?: number;
  /** Current time in ms, for TTL expiry. @default Date.now */
  clock?: () => number;
  /**
   * SQLite's `synchronous` setting: `FULL` makes every 204 survive a power loss (an fsync per request); `NORMAL` only
   * a crash of the process (faster). @default 'FULL'
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/** Points in the first page of a series: small, since a query holds one first page of every series it merges. */
const FIRST_PAGE = 256;

interface SeriesRow {
  id: number;
  metric: string;
  type: string;
  storage: StorageKind;
  tags: string;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    metric TEXT NOT NULL,
    type TEXT NOT NULL,
    storage TEXT NOT NULL,
    tags TEXT NOT NULL,
    UNIQUE (metric, type, tags)
  );
  CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL REFERENCES series (id),
    ts INTEGER NOT NULL,
    value BLOB,
    expires INTEGER,
    PRIMARY KEY (series_id, ts)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS points_expires ON points (expires) WHERE expires IS NOT NULL;
  CREATE TABLE IF NOT EXISTS metadata (
    service TEXT NOT NULL,
    service_key TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (service, service_key, key)
  ) WITHOUT ROWID;
`;

/**
 * A store in one SQLite file (better-sqlite3, WAL): one transaction per request, TTL by expiry column.
 * @example
 * import { SqliteStore } from 'koa-kairosdb/sqlite';
 * app.use(kairosdb({ store: new SqliteStore({ path: './data/metrics.db' }) }));
 */
export class SqliteStore implements Store {
  readonly capabilities: StoreCapabilities;
  readonly #db: Database.Database;
  readonly #clock: () => number;
  readonly #pageSize: number;
  readonly #ids = new Map<string, number>();
  readonly #purge: NodeJS.Timeout | undefined;
  readonly #sql;
  readonly metadata: MetadataStore = {
    set: async (service, serviceKey, key, value) => {
      this.#assertOpen();
      this.#guard(() => this.#sql.metaSet.run(service, serviceKey, key, value));
    },
    get: async (service, serviceKey, key) => {
      this.#assertOpen();
      return this.#guard(() => this.#sql.metaGet.get(service, serviceKey, key))?.value;
    },
    serviceKeys: async (service) => {
      this.#assertOpen();
      return this.#guard(() => this.#sql.metaServiceKeys.all(service)).map((r) => r.k);
    },
    keys: async (service, serviceKey) => {
      this.#assertOpen();
      return this.#guard(() => this.#sql.metaKeys.all(service, serviceKey)).map((r) => r.k);
    },
    delete: async (service, serviceKey, key) => {
      this.#assertOpen();
      this.#guard(() => this.#sql.metaDelete.run(service, serviceKey, key));
    },
  };
  readonly #writeAll: (series: readonly SeriesWrite[], now: number) => void;

  constructor(options: SqliteStoreOptions) {
    checkOptions(options);
    const { path } = options;
    this.#clock = options.clock ?? Date.now;
    this.#pageSize = options.pageSize ?? 10_000;
    this.capabilities = { ttl: true, persistent: path !== ':memory:' && path !== '' };
    const synchronous = options.synchronous ?? 'FULL';
    if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
      throw optionError(`SqliteStore(options): options.synchronous must be 'FULL' or 'NORMAL', got ${JSON.stringify(synchronous)}`);
    }
    this.#db = open(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${synchronous}`);
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(SCHEMA);
    const db = this.#db;
    this.#sql = {
      insertSeries: db.prepare('INSERT INTO series (metric, type, storage, tags) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      seriesId: db.prepare<[string, string, string], { id: number }>('SELECT id FROM series WHERE metric = ? AND type = ? AND tags = ?'),
      upsert: db.prepare('INSERT OR REPLACE INTO points (series_id, ts, value, expires) VALUES (?, ?, ?, ?)'),
      seriesOf: db.prepare<[string], SeriesRow>('SELECT id, metric, type, storage, tags FROM series WHERE metric = ?'),
      page: db.prepare<[number, number, number, number, number], { ts: number; value: unknown }>(
        'SELECT ts, value FROM points WHERE series_id = ? AND ts >= ? AND ts <= ? AND (expires IS NULL OR expires > ?) ORDER BY ts LIMIT ?',
      ),
      pageDesc: db.prepare<[number, number, number, number, number], { ts: number; value: unknown }>(
        'SELECT ts, value FROM points WHERE series_id = ? AND ts >= ? AND ts <= ? AND (expires IS NULL OR expires > ?) ORDER BY ts DESC LIMIT ?',
      ),
      metricNames: db.prepare<[number], { metric: string }>(
        'SELECT DISTINCT metric FROM series s WHERE EXISTS (SELECT 1 FROM points p WHERE p.series_id = s.id AND (p.expires IS NULL OR p.expires > ?)) ORDER BY metric',
      ),
      deleteRange: db.prepare('DELETE FROM points WHERE series_id = ? AND ts >= ? AND ts <= ?'),
      deleteAllPoints: db.prepare('DELETE FROM points WHERE series_id = ?'),
      deleteSeries: db.prepare('DELETE FROM series WHERE id = ?'),
      purge: db.prepare('DELETE FROM points WHERE expires IS NOT NULL AND expires <= ?'),
      ping: db.prepare('SELECT 1'),
      metaSet: db.prepare('INSERT OR REPLACE INTO metadata (service, service_key, key, value) VALUES (?, ?, ?, ?)'),
      metaGet: db.prepare<[string, string, string], { value: string }>('SELECT value FROM metadata WHERE service = ? AND service_key = ? AND key = ?'),
      metaServiceKeys: db.prepare<[string], { k: string }>('SELECT DISTINCT service_key AS k FROM metadata WHERE service = ? ORDER BY service_key'),
      metaKeys: db.prepare<[string, string], { k: string }>('SELECT key AS k FROM metadata WHERE service = ? AND service_key = ? ORDER BY key'),
      metaDelete: db.prepare('DELETE FROM metadata WHERE service = ? AND service_key = ? AND key = ?'),
      stats: db.prepare<[number], { series: number; points: number }>(
        'SELECT count(DISTINCT series_id) AS series, count(*) AS points FROM points WHERE expires IS NULL OR expires > ?',
      ),
    };
    this.#writeAll = db.transaction((series: readonly SeriesWrite[], now: number) => {
      for (const s of series) this.#writeSeries(s, now);
    });
    const every = options.purgeIntervalMs ?? 60_000;
    if (every > 0) {
      this.#purge = setInterval(() => this.purgeExpired(), every);
      this.#purge.unref();
    }
  }

  async write(series: readonly SeriesWrite[]): Promise<void> {
    this.#assertOpen();
    this.#guard(() => this.#writeAll(series, this.#clock()));
  }

  async *read(query: SeriesQuery): AsyncIterable<SeriesRead> {
    this.#assertOpen();
    const { start, end } = rangeOf(query);
    const desc = query.order === 'desc';
    for (const row of this.#select(query)) {
      const firstSize = Math.min(FIRST_PAGE, this.#pageSize);
      const first = this.#page(row, start, end, this.#clock(), desc, firstSize);
      if (first.timestamps.length === 0) continue;
      const self = this;
      yield {
        metric: row.metric,
        tags: parseTags(row.tags),
        type: row.type,
        storage: row.storage,
        async *points() {
          const now = self.#clock();
          let page = first;
          let size = firstSize;
          while (page.timestamps.length > 0) {
            yield page;
            if (page.timestamps.length < size) return;
            const last = page.timestamps.at(-1) as number;
            size = self.#pageSize;
            page = desc ? self.#page(row, start, last - 1, now, true, size) : self.#page(row, last + 1, end, now, false, size);
          }
        },
      };
    }
  }

  async metricNames(prefix = ''): Promise<string[]> {
    this.#assertOpen();
    return this.#sql.metricNames.all(this.#clock()).map((r) => r.metric).filter((m) => m.startsWith(prefix));
  }

  async delete(query: SeriesQuery): Promise<void> {
    this.#assertOpen();
    const whole = query.start === undefined && query.end === undefined && query.tags === undefined;
    const { start, end } = rangeOf(query);
    this.#guard(() =>
      this.#db.transaction(() => {
        for (const row of this.#select(query)) {
          if (whole) {
            this.#sql.deleteAllPoints.run(row.id);
            this.#sql.deleteSeries.run(row.id);
          } else {
            this.#sql.deleteRange.run(row.id, start, end);
          }
        }
      })(),
    );
    if (whole) this.#ids.clear();
  }

  /** Deletes expired points now (also done every `purgeIntervalMs`); returns how many. */
  purgeExpired(): number {
    if (!this.#db.open) return 0;
    return this.#sql.purge.run(this.#clock()).changes;
  }

  async stats(): Promise<{ series: number; points: number }> {
    this.#assertOpen();
    return this.#sql.stats.get(this.#clock()) as { series: number; points: number };
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    this.#sql.ping.get();
  }

  async close(): Promise<void> {
    if (this.#purge) clearInterval(this.#purge);
    if (this.#db.open) this.#db.close();
  }

  #writeSeries(s: SeriesWrite, now: number): void {
    const tags = tagsKey(s.tags);
    const key = `${s.type}\u0000${s.metric}\u0000${tags}`;
    let id = this.#ids.get(key);
    if (id === undefined) {
      this.#sql.insertSeries.run(s.metric, s.type, s.storage, tags);
      id = (this.#sql.seriesId.get(s.metric, s.type, tags) as { id: number }).id;
      this.#ids.set(key, id);
    }
    const expires = s.ttl > 0 ? now + s.ttl * 1000 : null;
    const { timestamps, values } = s;
    const upsert = this.#sql.upsert;
    for (let i = 0; i < timestamps.length; i++) upsert.run(id, timestamps[i], toDriverValue(values[i] as StoredValue), expires);
  }

  *#select(query: SeriesQuery): Iterable<SeriesRow> {
    for (const row of this.#sql.seriesOf.all(query.metric)) {
      if (matchesTags(parseTags(row.tags), query.tags)) yield row;
    }
  }

  #page(row: SeriesRow, start: number, end: number, now: number, desc: boolean, limit: number): PointPage {
    const rows = (desc ? this.#sql.pageDesc : this.#sql.page).all(row.id, start, end, now, limit);
    const timestamps = new Array<number>(rows.length);
    const values = new Array<StoredValue>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as { ts: number; value: unknown };
      timestamps[i] = r.ts;
      values[i] = fromSqlite(r.value, row.storage);
    }
    return { timestamps, values };
  }

  #guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === 'SQLITE_FULL') {
        throw new StoreUnavailableError(`SQLite is busy (${code})`, { cause: error });
      }
      throw error;
    }
  }

  #assertOpen(): void {
    if (!this.#db.open) throw new StoreUnavailableError('SqliteStore is closed');
  }
}

function parseTags(json: string): Tags {
  return tagsFrom(JSON.parse(json) as [string, string][]);
}

function fromSqlite(value: unknown, storage: StorageKind): StoredValue {
  if (storage === 'bytes') return fromDriverBytes(value);
  if (storage === 'string') return value as string;
  return Number(value);
}

const KNOWN: readonly (keyof SqliteStoreOptions)[] = ['path', 'purgeIntervalMs', 'pageSize', 'clock', 'synchronous'];

function checkOptions(options: SqliteStoreOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw optionError("SqliteStore(options): give { path: './data/metrics.db' } (or { path: ':memory:' } for a database that is lost on exit)");
  }
  rejectUnknownKeys('SqliteStore(options)', options, KNOWN, { file: 'path', filename: 'path', database: 'path', db: 'path' });
  if (typeof options.path !== 'string' || options.path === '') {
    throw optionError("SqliteStore(options): options.path must name the database file, e.g. './data/metrics.db' (':memory:' keeps it in memory, lost on exit)");
  }
  for (const name of ['purgeIntervalMs', 'pageSize'] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < (name === 'pageSize' ? 1 : 0))) {
      throw optionError(`SqliteStore(options): options.${name} must be an integer ≥ ${name === 'pageSize' ? 1 : 0}, got ${String(value)}`);
    }
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') throw optionError('SqliteStore(options): options.clock must be a function');
}

/** Opens (and creates) the database file, creating its directory; a failure names the path. */
function open(path: string): Database.Database {
  const Driver = requirePeer<typeof Database>('better-sqlite3');
  const inMemory = path === ':memory:' || path.startsWith('file::memory:');
  try {
    if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });
    return new Driver(path);
  } catch (error) {
    throw new Error(`SqliteStore: cannot open the database '${path}': ${(error as Error).message}`, { cause: error });
  }
}
