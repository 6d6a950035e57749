import type Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { optionError } from '../../option-keys.js';
import type { Coordination, MetadataStore, PointPage, SeriesQuery, SeriesRead, SeriesWrite, Store, StoreCapabilities, Tags } from '../../store-api/contract.js';
import { inNameOrder } from '../../store-api/names.js';
import { rangeOf, tagsFrom } from '../../store-api/series-key.js';
import { StoreUnavailableError } from '../../store-api/unavailable.js';
import { SourceMerge, type MergedPage, type Source } from '../chunk/merge.js';
import { compactionLoop, compactionWorker, failingQuietly, LOG_PAGES, type CompactionWorker } from './background.js';
import type { Handover, Handovers } from './handover.js';
import { chunkSource, windowOf } from './chunk-rows.js';
import { Compactor } from './compactor.js';
import { keepAlive } from './keep-alive.js';
import { open } from './open.js';
import { checkOptions, inMemory, type SqliteStoreOptions } from './options.js';
import { backupFile, type BackupOptions } from './backup.js';
import { deleteRange } from './delete-range.js';
import { prepareSchema } from './schema.js';
import { RecentBatches, type Located, type PackedBatch } from './recent.js';
import { registration, SeriesIds } from './series-ids.js';
import { SqliteSeriesIndex } from './series-index.js';
import { prepareStatements, type SeriesRow, type Statements } from './statements.js';
import { reached, WaitingWrites } from './backpressure.js';
import { WriteLock } from './write-lock.js';

export type { BackupOptions, BackupProgress } from './backup.js';
export type { SqliteStoreOptions };

/**
 * Series whose sources a read fetches at once (~10 ms of a sum over 10,000 new series; the reader paces between the
 * series it is given, not inside a fetch).
 */
const SOURCES_SLICE = 250;
/** Points in the first page of a series: small, since a query holds one first page of every series it merges. */
const FIRST_PAGE = 256;
/** How long a write waits for a compaction worker that falls behind before it moves points itself, ms. */
const WORKER_PATIENCE_MS = 1000;

/** New series a write registers in one transaction (~10 µs each in a profile: four B-tree inserts): its longest stretch on the event loop. */
const REGISTER_SLICE = 250;
/** Series whose ids a write looks up in one stretch (~5 ms when they are new at a million series). */
const LOOKUP_SLICE = 2000;
/** New series the compaction worker adds in one transaction (~60 ms at a million series; see handover.ts). */
const WORKER_REGISTER_SLICE = 5000;
/**
 * Page cache of the store's connection, KiB (SQLite's default is 2 MiB): a new series inserts into four B-trees at
 * places spread over them, and past a few 100,000 series each insert read its pages from the file again.
 */
const CACHE_KIB = 65_536;
/** A merged page as a read yields it (with `expires` only when asked for). */
const pointPage = ({ timestamps, values, expires }: MergedPage): PointPage => (expires ? { timestamps, values, expires } : { timestamps, values });

/** What a read selects of each series' points. */
interface ReadRange {
  readonly start: number;
  readonly end: number;
  readonly desc: boolean;
  /** Whether pages carry each point's expiry. */
  readonly expiry: boolean;
}

/** Points `stats()` counts between two turns it gives the event loop (~20 ms of decoding). */
const STATS_TURN_POINTS = 200_000;

/**
 * A store in one SQLite file (better-sqlite3, WAL). A request is one transaction appending one row per series
 * (write order, no per-series index page to dirty); compaction in the background — a worker thread for a database
 * file — turns rows into compressed chunks per series and window of time (a few bytes per point). Reads merge a
 * series' chunks and rows, later writes winning.
 * @example
 * import { SqliteStore } from 'koa-kairosdb/sqlite';
 * app.use(kairosdb({ store: new SqliteStore({ path: './data/metrics.db' }) }));
 */
export class SqliteStore implements Store {
  readonly capabilities: StoreCapabilities;
  readonly #db: Database.Database;
  readonly #clock: () => number;
  readonly #pageSize: number;
  readonly #series: SeriesIds;
  readonly #index: SqliteSeriesIndex;
  readonly #sql: Statements;
  readonly #compactor: Compactor;
  readonly #recent: RecentBatches;
  readonly #compactEvery: number;
  /** Shared with the compaction worker, when one runs. */
  readonly #lock: WriteLock | undefined;
  /** Writes handed over to the compaction worker, when one runs. */
  readonly #handovers: Handovers | undefined;
  /** Settles once the deletes of whole series waiting for batches handed over are done (writes called meanwhile wait). */
  #deletingSeries: Promise<void> | undefined;
  /** Resolves once the compaction worker takes writes (or has stopped). */
  readonly #started: Promise<void> = Promise.resolve();
  readonly #waiting = new WaitingWrites();
  readonly #stopBackground: () => Promise<void>;
  readonly #compactQuietly: (work: () => void) => void;
  readonly metadata: MetadataStore;
  readonly coordination: Coordination;
  readonly #path: string;
  /** The compaction worker, when one runs (it also counts the series for `figures()`). */
  #worker: CompactionWorker | undefined;

  constructor(options: SqliteStoreOptions) {
    checkOptions(options);
    const { path } = options;
    this.#path = path;
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
    this.#db.pragma(`cache_size = -${CACHE_KIB}`);
    prepareSchema(this.#db, path);
    this.#sql = prepareStatements(this.#db);
    this.metadata = metadataOf(this.#sql, (work) => this.#guard(work), (work) => this.#exclusive(() => this.#guard(work)));
    this.coordination = coordinationOf(this.#db, this.#sql, (work) => this.#guard(work), (work) => this.#exclusive(() => this.#guard(work)));
    this.#compactEvery = options.compactIntervalMs ?? 500;
    const purgeEvery = options.purgeIntervalMs ?? 60_000;
    // A worker has a connection of its own and the real clock: a file, and no clock given.
    const inWorker = (options.compactInWorker ?? true) && this.#compactEvery > 0 && !inMemory(path) && !options.clock;
    const lock = inWorker ? new WriteLock(WriteLock.memory(), 'store') : undefined;
    this.#lock = lock;
    // Small batches wait up to 20 intervals for more points per series (10 s by default).
    const maxWaitMs = 20 * this.#compactEvery;
    const sharing = lock && { exclusive: <T>(work: () => T) => lock.run(work), idsChanged: () => false };
    this.#compactor = new Compactor(this.#db, this.#sql, this.#clock, maxWaitMs, sharing);
    const warn = (message: string) => process.emitWarning(message, 'KairosdbStoreWarning');
    this.#compactQuietly = failingQuietly(warn);
    const dataVersion = this.#db.prepare<[], { v: number; c: number }>('SELECT (SELECT data_version FROM pragma_data_version) AS v, total_changes() AS c');
    this.#recent = new RecentBatches(this.#sql, () => {
      const { v, c } = dataVersion.get() as { v: number; c: number };
      return `${v}:${c}`;
    });
    this.#index = new SqliteSeriesIndex(this.#db);
    this.#series = new SeriesIds(this.#db, this.#sql, this.#recent, this.#index);
    // The backlog a previous process left, learnt in the background (a read that comes first reads what it needs).
    this.#recent.learn(() => this.#db.open).catch(() => undefined);
    if (lock) {
      const settings = { path, compactIntervalMs: this.#compactEvery, purgeIntervalMs: purgeEvery, maxWaitMs, lock: lock.memory, synchronous };
      // The worker copies the log into the file (see compaction-worker.ts); once it is gone, this connection does.
      this.#db.pragma('wal_autocheckpoint = 0');
      const exited = () => {
        lock.releaseDead();
        if (this.#db.open) this.#db.pragma(`wal_autocheckpoint = ${LOG_PAGES}`);
      };
      const worker = compactionWorker(settings, warn, exited);
      this.#worker = worker;
      this.#stopBackground = worker.stop;
      this.#handovers = worker.writes;
      this.#started = worker.started;
    } else {
      const stop = compactionLoop(this.#compactor, this.#compactEvery, purgeEvery, warn);
      this.#stopBackground = async () => stop();
    }
  }

  /**
   * Resolves once the store's compaction worker has started (a database file): writes then leave the event loop (see
   * the README). Writes before that are done on the store's thread.
   */
  async init(): Promise<void> {
    this.#assertOpen();
    const letGo = keepAlive();
    try {
      await this.#started;
    } finally {
      letGo();
    }
  }

  async write(series: readonly SeriesWrite[]): Promise<void> {
    this.#assertOpen();
    if (this.#deletingSeries) await this.#deletingSeries;
    let points = 0;
    for (const s of series) points += s.timestamps.length;
    // The series' ids from the cache, a turn between slices of a large request (a million new series: ~2.6 µs a
    // lookup that misses); new series (or ones the cache let go) are added first, a slice at a time.
    const known = this.#series.generation;
    const ids = new Float64Array(series.length);
    let unknown = 0;
    for (let i = 0; i < series.length; i += LOOKUP_SLICE) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      unknown += this.#series.lookUp(series, i, Math.min(series.length, i + LOOKUP_SLICE), ids);
    }
    if (unknown > 0) await this.#registerNew(series, ids);
    // Packed before taking the write lock (the usual case): the lock is held only to insert the row. A delete of whole
    // series meanwhile may have let ids go; then the write is done whole under the lock.
    const generation = this.#lock?.generation ?? 0;
    const packed = this.#series.generation === known ? this.#series.pack(series, ids, this.#clock()) : undefined;
    // Written by the worker, off the event loop.
    if (packed?.batch && this.#handovers?.ready) return this.#handOver(this.#handovers, packed.batch, generation, points);
    await this.#exclusive(() => {
      this.#assertOpen();
      this.#guard(() => (packed?.ids === this.#series.generation ? this.#recent.insert(packed.batch) : this.#series.writeWhole(series, this.#clock())));
      // Committed: what follows is compaction's, and never fails the write.
      if (this.#compactEvery > 0 && !this.#lock) this.#compactQuietly(() => this.#compactor.keepUp(points));
    });
    if (this.#lock) await this.#waitForWorker(this.#lock, points);
  }

  async *read(query: SeriesQuery): AsyncIterable<SeriesRead> {
    this.#assertOpen();
    const { start, end } = rangeOf(query);
    const desc = query.order === 'desc';
    const pageSize = this.#pageSize;
    // The index is read a page at a time as the read goes on, the event loop given a turn between pages.
    const pages = this.#index.pages(query.metric, query.tags);
    for (let page = this.#guard(() => pages.next()); !page.done; page = this.#guard(() => pages.next())) {
      yield* this.#readRows(page.value, { start, end, desc, expiry: query.expiry === true }, pageSize);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The series of one page of the index, with their points in the range. */
  *#readRows(rows: readonly SeriesRow[], range: ReadRange, pageSize: number): Generator<SeriesRead> {
    for (let i = 0; i < rows.length; i += SOURCES_SLICE) yield* this.#readSlice(rows.slice(i, i + SOURCES_SLICE), range, pageSize);
  }

  /** Series of a slice of a page, with their points in the range. */
  *#readSlice(rows: readonly SeriesRow[], { start, end, desc, expiry }: ReadRange, pageSize: number): Generator<SeriesRead> {
    // The slice's parts and chunks are fetched at once (compressed), in one snapshot: compaction meanwhile moves a
    // part into a chunk in one transaction, and another process may compact between two statements.
    const pageSources = this.#guard(() => this.#snapshot(() => this.#pageSources(rows, start, end)));
    for (const row of rows) {
      const now = this.#clock();
      const sources = pageSources.get(row.id) ?? [];
      // A query holds every series it merges before reading them: each keeps its compressed sources and a copy of
      // its first page, not a decoded chunk (the merge that found the page is let go).
      const firstSize = Math.min(FIRST_PAGE, pageSize);
      const found = new SourceMerge(sources, { start, end, now, desc }).next(firstSize, expiry);
      if (found.timestamps.length === 0) continue;
      const first: PointPage = { timestamps: Array.from(found.timestamps), values: Array.from(found.values), ...(found.expires && { expires: found.expires }) };
      yield {
        metric: row.metric,
        tags: parseTags(row.tags),
        type: row.type,
        storage: row.storage,
        async *points(): AsyncIterable<PointPage> {
          yield first;
          const last = first.timestamps[first.timestamps.length - 1] as number;
          const rest = new SourceMerge(sources, desc ? { start, end: last - 1, now, desc } : { start: last + 1, end, now, desc });
          for (let page = rest.next(pageSize, expiry); page.timestamps.length > 0; page = rest.next(pageSize, expiry)) yield pointPage(page);
        },
      };
    }
  }

  /**
   * From the index: a metric is listed while it has series (as KairosDB lists its names), so one whose points all
   * expired or were deleted by range stays listed until the metric is deleted.
   */
  async metricNames(prefix = ''): Promise<string[]> {
    this.#assertOpen();
    const read: string[][] = [];
    const pages = this.#index.names(prefix);
    for (let page = this.#guard(() => pages.next()); !page.done; page = this.#guard(() => pages.next())) {
      read.push(page.value);
      await turn();
      this.#assertOpen();
    }
    return inNameOrder(read.length === 1 ? (read[0] as string[]) : read.flat());
  }

  async metricNamesWithTag(prefix: string, name: string, value: string): Promise<string[]> {
    this.#assertOpen();
    return this.#guard(() => this.#index.namesWithTag(prefix, name, value)).sort();
  }

  async countNewSeries(series: readonly SeriesWrite[]): Promise<number> {
    this.#assertOpen();
    return this.#guard(() => this.#series.countNew(series));
  }

  async countSeries(query: SeriesQuery, atMost: number): Promise<number> {
    this.#assertOpen();
    return this.#guard(() => this.#index.count(query.metric, query.tags, atMost));
  }

  async delete(query: SeriesQuery): Promise<void> {
    this.#assertOpen();
    const whole = query.start === undefined && query.end === undefined && query.tags === undefined;
    const { start, end } = rangeOf(query);
    const remove = this.#db.transaction(() => {
      const rows = [...this.#index.pages(query.metric, query.tags)].flat();
      const ids = new Set(rows.map((r) => r.id));
      if (whole) this.#recent.removeSeries(ids);
      const recent = whole ? new Map<number, Located[]>() : this.#recent.located(ids);
      for (const row of rows) {
        if (whole) {
          this.#sql.deleteChunksOfSeries.run(row.id);
          this.#sql.deleteSeries.run(row.id);
          this.#index.remove(row);
        } else {
          deleteRange(this.#sql, this.#recent, recent.get(row.id) ?? [], row, start, end);
        }
      }
    });
    const removing = async () => {
      await this.#exclusive(() => {
        this.#assertOpen();
        this.#guard(() => remove.immediate());
        if (whole) {
          this.#series.forget();
          this.#compactor.forget();
          // The worker forgets too: the deleted series' ids may come back for other series.
          this.#lock?.bumpGeneration();
        }
      });
    };
    const handed = whole ? this.#handovers?.idle() : undefined;
    // (Without batches to wait for, a delete takes its turn for the lock as it is called.)
    if (!handed) return removing();
    // A delete of whole series lets their ids go: it waits for the batches handed over (packed with them), and the
    // writes called meanwhile wait for it.
    const done = handed.then(removing);
    this.#holdWrites(done);
    return done;
  }

  /** Makes the writes called from now on wait until `work` has settled (and what they waited for before). */
  #holdWrites(work: Promise<void>): void {
    const settled = work.then(
      () => {},
      () => {},
    );
    const all = this.#deletingSeries ? Promise.all([this.#deletingSeries, settled]).then(() => {}) : settled;
    this.#deletingSeries = all;
    void all.then(() => {
      if (this.#deletingSeries === all) this.#deletingSeries = undefined;
    });
  }

  /**
   * Rewrites now the chunks holding expired points without them (background compaction does it after every
   * `purgeIntervalMs`); returns how many stored points the rewrite removed (expired or overwritten ones).
   */
  purgeExpired(): number {
    if (!this.#db.open) return 0;
    const before = this.#compactor.removed;
    this.#guard(() => {
      this.#compactor.all();
      this.#compactor.expire();
      this.#compactor.all();
    });
    return this.#compactor.removed - before;
  }

  /** Turns every recent row into chunks and merges every window of several chunks now (compaction does it in the background too). */
  async compact(): Promise<void> {
    this.#assertOpen();
    this.#guard(() => this.#compactor.all());
  }

  /**
   * One step of the background's compaction now (read from a snapshot, then one short commit), without its wait for more
   * points: for a host that runs compaction on its own schedule (`compactIntervalMs: 0`). True while work is left —
   * waiting parts, or windows due for a merge; `compact()` also merges every other window of several chunks.
   */
  compactStep(): boolean {
    this.#assertOpen();
    return this.#guard(() => this.#compactor.stepNow());
  }

  /**
   * Series with live points, and their live points (expired and overwritten ones not counted): decoded to be exact,
   * so it costs what the store holds — a page of 1,000 series' compressed points fetched in one snapshot, then counted
   * with a turn for the event loop every {@link STATS_TURN_POINTS} points.
   */
  async stats(): Promise<{ series: number; points: number }> {
    this.#assertOpen();
    let series = 0;
    let points = 0;
    let sinceTurn = 0;
    for (let after = 0; ; ) {
      const page = this.#guard(() =>
        this.#snapshot(() => {
          const rows = this.#sql.seriesPage.all(after, 1000);
          const sources = this.#pageSources(rows, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
          return rows.map((row) => ({ id: row.id, sources: sources.get(row.id) ?? [] }));
        }),
      );
      if (page.length === 0) return { series, points };
      for (const { sources } of page) {
        const merge = new SourceMerge(sources, { start: Number.MIN_SAFE_INTEGER, end: Number.MAX_SAFE_INTEGER, now: this.#clock(), desc: false });
        let live = 0;
        for (let found = merge.next(65_536); found.timestamps.length > 0; found = merge.next(65_536)) {
          live += found.timestamps.length;
          if ((sinceTurn += found.timestamps.length) >= STATS_TURN_POINTS) {
            sinceTurn = 0;
            await turn();
          }
        }
        if (live > 0) series++;
        points += live;
      }
      after = (page.at(-1) as { id: number }).id;
      await turn();
      this.#assertOpen();
    }
  }

  /**
   * Writes a consistent copy of the database to `path` (a file that must not exist), online: from a read-only
   * connection of its own in a worker thread (`VACUUM INTO`: the store as it was when the backup started, compacted),
   * while writes go on. Restore: stop the app, put the copy at the store's path (with no `-wal`/`-shm` files beside
   * it), start. Returns the copy's size.
   * @example await store.backup(`./backups/metrics-${Date.now()}.db`, { onProgress: ({ bytes, estimatedBytes }) => … })
   */
  async backup(path: string, options: BackupOptions = {}): Promise<{ bytes: number }> {
    this.#assertOpen();
    const { pages, pageSize } = this.#guard(() => this.#db.prepare<[], { pages: number; pageSize: number }>('SELECT (SELECT page_count FROM pragma_page_count) AS pages, (SELECT page_size FROM pragma_page_size) AS pageSize').get() as { pages: number; pageSize: number });
    const estimatedBytes = pages * pageSize;
    const destination = resolve(path);
    if (!inMemory(this.#db.name)) return backupFile(this.#db.name, destination, estimatedBytes, options);
    // A database in this connection's memory: SQLite's backup API (no other connection writes to it).
    if (existsSync(destination)) throw new Error(`SqliteStore.backup: '${destination}' exists; give the path of a file that does not`);
    await this.#db.backup(destination, { progress: ({ totalPages, remainingPages }) => (options.onProgress?.({ bytes: (totalPages - remainingPages) * pageSize, estimatedBytes }), 1000) });
    const bytes = statSync(destination).size;
    options.onProgress?.({ bytes, estimatedBytes: bytes });
    return { bytes };
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    this.#sql.ping.get();
  }

  /**
   * `backlog_batches`: written batches compaction has still to move into chunks (it keeps up when this stays low);
   * `wal_bytes`: the size of the write-ahead log, which checkpoints copy into the file and start over (0 in memory);
   * `series`: the series of the store, counted by the compaction worker on its own connection (absent without a
   * worker: counting them is a scan of the index, which the host's thread does not do).
   */
  async figures(): Promise<Readonly<Record<string, number>>> {
    this.#assertOpen();
    const backlog = this.#guard(() => this.#sql.backlog.get() as { n: number }).n;
    const log = inMemory(this.#path) ? undefined : await stat(`${this.#path}-wal`).catch(() => undefined);
    const series = await this.#worker?.countSeries();
    return { backlog_batches: backlog, wal_bytes: log?.size ?? 0, ...(series !== undefined && { series }) };
  }

  async close(): Promise<void> {
    await this.#stopBackground();
    if (this.#db.open) this.#db.close();
  }

  /** Adds the series whose id is NaN in `ids`, a slice at a time (a turn for the event loop between), and puts their ids there. */
  async #registerNew(series: readonly SeriesWrite[], ids: Float64Array): Promise<void> {
    const unknown: number[] = [];
    ids.forEach((id, i) => Number.isNaN(id) && unknown.push(i));
    const handovers = this.#handovers;
    // With the worker, in its transactions of WORKER_REGISTER_SLICE series, the host's thread free meanwhile.
    const slice = handovers?.ready ? WORKER_REGISTER_SLICE : REGISTER_SLICE;
    for (let i = 0; i < unknown.length; i += slice) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      const at = unknown.slice(i, i + slice);
      const part = at.map((k) => series[k] as SeriesWrite);
      let got: Float64Array | 'stale' = 'stale';
      if (handovers?.ready) {
        const generation = this.#series.generation;
        got = await handovers.register(registration(part)).catch((error: unknown) => this.#guard<never>(() => { throw error; }));
        if (got !== 'stale') this.#series.learn(part, got, generation);
      }
      if (got === 'stale') {
        got = await this.#exclusive(() => {
          this.#assertOpen();
          return this.#guard(() => this.#series.register(part));
        });
      }
      const added = got;
      at.forEach((k, j) => (ids[k] = added[j] as number));
    }
  }

  /**
   * Hands a packed batch over to the worker and waits for it to be written. What a write awaits holds its objects
   * alive (copied by every scavenge while it waits): here only the batch, not the request's series.
   */
  async #handOver(handovers: Handovers, batch: PackedBatch, generation: number, points: number): Promise<void> {
    const done = await handovers.write(batch, generation).catch((error: unknown) => this.#guard<Handover>(() => { throw error; }));
    if (done !== 'stale') this.#recent.remember(done.seq, batch);
    else {
      // The worker stopped before it answered: written here (if it had written it, a batch twice reads as once).
      await this.#exclusive(() => {
        this.#assertOpen();
        if ((this.#lock?.generation ?? 0) !== generation) throw new StoreUnavailableError('SqliteStore: a delete of whole series came between; write it again');
        this.#guard(() => this.#recent.insert(batch));
      });
    }
    return this.#waitForWorker(this.#lock as WriteLock, points);
  }

  /** Runs reads in one snapshot of the file (another process may compact between two statements). */
  #snapshot<T>(reads: () => T): T {
    return this.#db.inTransaction ? reads() : this.#db.transaction(reads)();
  }

  /** The merge sources of a page of series in a range: the chunks of all of them in one statement, then their parts. */
  #pageSources(rows: readonly SeriesRow[], start: number, end: number): Map<number, Source[]> {
    const recent = this.#recent.located(new Set(rows.map((r) => r.id)));
    const parts = this.#recent.reader(recent);
    const sources = new Map<number, Source[]>();
    const add = (id: number, source: Source) => {
      const of = sources.get(id);
      if (of) of.push(source);
      else sources.set(id, [source]);
    };
    for (const r of this.#sql.chunksOfMany.all(JSON.stringify(rows.map((row) => row.id)), windowOf(start), windowOf(end), start, end)) add(r.series_id, chunkSource(r));
    for (const row of rows) {
      for (const at of recent.get(row.id) ?? []) {
        if (at.last < start || at.first > end) continue;
        const source = this.#recent.source(row.storage, at, parts);
        if (source) add(row.id, source);
      }
    }
    return sources;
  }

  /**
   * Back-pressure with a worker, as `keepUp` without one: while it falls behind the writes, a write is answered once
   * the worker has moved as many points as the write brought on top of those the writes waiting before it brought
   * (see WaitingWrites) — the event loop free meanwhile — or after {@link WORKER_PATIENCE_MS}, once the write has
   * moved them itself.
   */
  async #waitForWorker(lock: WriteLock, points: number): Promise<void> {
    if (!this.#guard(() => this.#compactor.behind())) return;
    const target = this.#waiting.enter(lock.moved, points);
    try {
      const until = performance.now() + WORKER_PATIENCE_MS;
      while (this.#db.open && !reached(lock.moved, target)) {
        if (performance.now() > until) {
          await this.#exclusive(() => this.#db.open && this.#compactQuietly(() => this.#compactor.keepUp(points)));
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      this.#waiting.leave();
    }
  }

  /**
   * Runs a write (synchronous) while the compaction worker is not writing — waiting for it without blocking the
   * event loop — or at once without a worker.
   */
  #exclusive<T>(work: () => T): T | Promise<T> {
    return this.#lock ? this.#lock.runAsync(work) : work();
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

/** Compare-and-set in an immediate transaction: the file's write lock makes it atomic across processes. */
function coordinationOf(db: Database.Database, sql: Statements, guard: <T>(work: () => T) => T, write: (work: () => unknown) => unknown): Coordination {
  const swap = db.transaction((name: string, expected: string | undefined, next: string | undefined) => {
    if (sql.sharedGet.get(name)?.value !== expected) return false;
    if (next === undefined) sql.sharedDelete.run(name);
    else sql.sharedSet.run(name, next);
    return true;
  });
  return {
    get: async (name) => guard(() => sql.sharedGet.get(name))?.value,
    compareAndSet: async (name, expected, next) => (await write(() => swap.immediate(name, expected, next))) === true,
  };
}

function metadataOf(sql: Statements, guard: <T>(work: () => T) => T, write: (work: () => unknown) => unknown): MetadataStore {
  return {
    set: async (service, serviceKey, key, value) => void (await write(() => sql.metaSet.run(service, serviceKey, key, value))),
    get: async (service, serviceKey, key) => guard(() => sql.metaGet.get(service, serviceKey, key))?.value,
    serviceKeys: async (service) => guard(() => sql.metaServiceKeys.all(service)).map((r) => r.k),
    keys: async (service, serviceKey) => guard(() => sql.metaKeys.all(service, serviceKey)).map((r) => r.k),
    delete: async (service, serviceKey, key) => void (await write(() => sql.metaDelete.run(service, serviceKey, key))),
    count: async (service, atMost) => guard(() => sql.metaCount.get(service, atMost))?.n ?? 0,
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

function parseTags(json: string): Tags {
  return tagsFrom(JSON.parse(json) as [string, string][]);
}
