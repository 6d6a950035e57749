import { optionError, rejectUnknownKeys } from '../../option-keys.js';

/** Options of {@link SqliteStore} (public: no better-sqlite3 type here, so users need not install its types). */
export interface SqliteStoreOptions {
  /** Database file, created with its directory if missing; `':memory:'` keeps everything in memory (lost on exit). */
  path: string;
  /** How often chunks holding expired points are rewritten without them, in ms; 0 never (they stay hidden). @default 60000 */
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
  /**
   * How often background compaction looks for work, in ms; 0 only when `compact()` is called. Requests with few
   * points per series wait up to 20 intervals for more before they become chunks (fewer, larger chunks). @default 500
   */
  compactIntervalMs?: number;
  /**
   * Runs background compaction in a worker thread with connections of its own (a database file, no `clock` given),
   * which also inserts the requests' batches once started (`init()`), leaving the event loop to requests; false runs
   * compaction on the store's thread, in slices of about 10 ms, and inserts there. @default true
   */
  compactInWorker?: boolean;
}

const KNOWN: readonly (keyof SqliteStoreOptions)[] = ['path', 'purgeIntervalMs', 'pageSize', 'clock', 'synchronous', 'compactIntervalMs', 'compactInWorker'];

export function checkOptions(options: SqliteStoreOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw optionError("SqliteStore(options): give { path: './data/metrics.db' } (or { path: ':memory:' } for a database that is lost on exit)");
  }
  rejectUnknownKeys('SqliteStore(options)', options, KNOWN, { file: 'path', filename: 'path', database: 'path', db: 'path' });
  if (typeof options.path !== 'string' || options.path === '') {
    throw optionError("SqliteStore(options): options.path must name the database file, e.g. './data/metrics.db' (':memory:' keeps it in memory, lost on exit)");
  }
  for (const name of ['purgeIntervalMs', 'pageSize', 'compactIntervalMs'] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < (name === 'pageSize' ? 1 : 0))) {
      throw optionError(`SqliteStore(options): options.${name} must be an integer ≥ ${name === 'pageSize' ? 1 : 0}, got ${String(value)}`);
    }
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') throw optionError('SqliteStore(options): options.clock must be a function');
  if (options.compactInWorker !== undefined && typeof options.compactInWorker !== 'boolean') {
    throw optionError(`SqliteStore(options): options.compactInWorker must be true or false, got ${String(options.compactInWorker)}`);
  }
}

/** Whether the database lives in this connection's memory (no other connection can open it). */
export function inMemory(path: string): boolean {
  return path === ':memory:' || path.startsWith('file::memory:');
}
