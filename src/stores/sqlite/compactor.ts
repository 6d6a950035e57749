/**
 * Background compaction of the SQLite store, off the request path and in bounded steps, each one transaction (a
 * crash leaves either the rows before or the chunks after): recent rows become chunks (keeping expired points,
 * which still hide older ones), and a window's several chunks become one (dropping expired and hidden points).
 */
import type Database from 'better-sqlite3';
import { SourceMerge, type Source } from '../chunk/merge.js';
import type { StorageKind } from '../../types/value-type.js';
import { ChunkCutter, chunkSource, MAX_CHUNK_POINTS, recentSource } from './chunk-rows.js';
import type { Statements } from './statements.js';

/** Series whose recent rows one step moves. */
const SERIES_PER_STEP = 256;
/** Recent rows of one series one step moves. */
const ROWS_PER_SERIES = 512;
/** A window with this many chunks is merged. */
const FRAGMENTS = 4;
/** Windows with more points are left in several chunks (each step stays small). */
const MAX_WINDOW_POINTS = 16 * MAX_CHUNK_POINTS;

export class Compactor {
  /** Windows (`series:win`) due for a merge. */
  readonly #due = new Set<string>();
  readonly #storage = new Map<number, StorageKind>();
  /** Stored points merges have removed (expired, or hidden by a later write), since the store opened. */
  removed = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly sql: Statements,
    private readonly clock: () => number,
  ) {}

  /** Works for about `budgetMs`; true when work is left. */
  step(budgetMs: number): boolean {
    const until = performance.now() + budgetMs;
    while (performance.now() < until) {
      if (this.moveRecent() > 0) continue;
      const next = this.#due.values().next();
      if (next.done) return false;
      this.#due.delete(next.value);
      const [series, win] = next.value.split(':').map(Number) as [number, number];
      this.mergeWindow(series, win);
    }
    return true;
  }

  /** Runs until nothing is left, merging every window of several chunks: what `SqliteStore.compact()` does. */
  all(): void {
    while (this.moveRecent() > 0);
    for (const { series_id, win } of this.sql.fragmented.all()) this.#due.add(`${series_id}:${win}`);
    while (this.step(1000));
  }

  /** Marks the windows holding expired points for a merge (which drops them). */
  expire(): void {
    for (const { series_id, win } of this.sql.expiredWindows.all(this.clock())) this.#due.add(`${series_id}:${win}`);
  }

  /** Moves the oldest recent rows into chunks; returns how many rows it moved. */
  moveRecent(): number {
    let moved = 0;
    this.db
      .transaction(() => {
        const series = new Set<number>();
        for (const { series_id } of this.sql.oldestRecent.all(SERIES_PER_STEP * 8)) {
          series.add(series_id);
          if (series.size === SERIES_PER_STEP) break;
        }
        for (const id of series) moved += this.#moveSeries(id);
      })
      .immediate();
    return moved;
  }

  #moveSeries(id: number): number {
    const rows = this.sql.recentRows.all(id, ROWS_PER_SERIES);
    if (rows.length === 0) return 0;
    const storage = this.#storageOf(id);
    const seq = (rows.at(-1) as { seq: number }).seq;
    const { touched } = this.#write(
      id,
      storage,
      seq,
      rows.map((r) => recentSource(storage, r)),
      true,
    );
    this.sql.deleteRecentUpTo.run(id, seq);
    for (const win of touched) {
      if ((this.sql.windowSize.get(id, win) as { n: number }).n >= FRAGMENTS) this.#due.add(`${id}:${win}`);
    }
    return rows.length;
  }

  /** Merges the chunks of one window into as few as fit, dropping expired points; leaves very large windows. */
  mergeWindow(id: number, win: number): void {
    this.db
      .transaction(() => {
        const rows = this.sql.windowChunks.all(id, win);
        const now = this.clock();
        const expired = rows.some((r) => r.expires !== null && r.expires <= now);
        if (rows.length < 2 && !expired) return;
        if (rows.reduce((n, r) => n + r.count, 0) > MAX_WINDOW_POINTS) return;
        const seq = Math.max(...rows.map((r) => r.seq));
        const kept = this.#write(id, this.#storageOf(id), seq, rows.map(chunkSource), false).points;
        for (const r of rows) this.sql.deleteChunk.run(r.id);
        this.removed += rows.reduce((n, r) => n + r.count, 0) - kept;
      })
      .immediate();
  }

  /** Writes the merge of `sources` as chunks with `seq`; returns the windows written and the points. */
  #write(id: number, storage: StorageKind, seq: number, sources: Source[], keepExpired: boolean): { touched: Set<number>; points: number } {
    const touched = new Set<number>();
    let points = 0;
    const cutter = new ChunkCutter(storage, (c) => {
      touched.add(c.win);
      points += c.count;
      this.sql.insertChunk.run(id, c.win, seq, c.first, c.last, c.count, c.expires, c.data);
    });
    const merge = new SourceMerge(sources, { start: -Infinity, end: Infinity, now: this.clock(), desc: false, keepExpired });
    for (;;) {
      const page = merge.next(MAX_CHUNK_POINTS, true);
      if (page.timestamps.length === 0) break;
      cutter.add(page);
    }
    cutter.flush();
    return { touched, points };
  }

  /** Forgets what it knows of deleted series (their ids may be used again). */
  forget(): void {
    this.#storage.clear();
    this.#due.clear();
  }

  #storageOf(id: number): StorageKind {
    let storage = this.#storage.get(id);
    if (storage === undefined) {
      storage = (this.sql.storageOf.get(id) as { storage: StorageKind }).storage;
      this.#storage.set(id, storage);
    }
    return storage;
  }
}
