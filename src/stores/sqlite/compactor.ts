/**
 * Background compaction of the SQLite store, off the request path and in bounded steps, each one transaction (a
 * crash leaves either the rows before or the chunks after): recent rows become chunks (keeping expired points,
 * which still hide older ones), and a window's several chunks become one (dropping expired and hidden points).
 */
import type Database from 'better-sqlite3';
import { SourceMerge, type Source } from '../chunk/merge.js';
import type { StorageKind } from '../../types/value-type.js';
import { DIRECTORY_FIELDS as F } from './batch.js';
import { BatchCache, type CachedBatch } from './batch-cache.js';
import { ChunkCutter, chunkSource, MAX_CHUNK_POINTS, recentSource, type StoredRow } from './chunk-rows.js';
import type { Statements } from './statements.js';

/** Points one step moves from batches into chunks (a step is one transaction, a few ms). */
const POINTS_PER_STEP = 16_384;
/** Batches one step looks at: a series' parts in all of them become one chunk. */
const BATCHES_PER_STEP = 64;
/**
 * The background waits for parts worth a chunk: until the oldest batches hold this many points per series on
 * average, or {@link BATCHES_PER_STEP} batches are waiting, or they have waited `maxWaitMs`. Moving each
 * request's few points per series at once would write one tiny chunk per series per request (many series: a B-tree
 * page each, as rows per point did).
 */
const MIN_POINTS_PER_SERIES = 512;
/** The mark of a chosen series in a step's totals (no count of points is negative). */
const CHOSEN = -1;
/** A window with this many chunks is merged. */
const FRAGMENTS = 8;
/** Windows with more points are left in several chunks (each step stays small). */
const MAX_WINDOW_POINTS = 16 * MAX_CHUNK_POINTS;

export class Compactor {
  /** Windows (`series:win`) due for a merge. */
  readonly #due = new Set<string>();
  readonly #storage = new Map<number, StorageKind>();
  /** Stored points merges have removed (expired, or hidden by a later write), since the store opened. */
  removed = 0;
  /** Since when the background has left waiting batches for more (performance.now()). */
  #waitingSince: number | undefined;
  readonly #batches: BatchCache;
  /** Per series id, its points waiting in the batches a step looks at (see #totals). */
  #slots = new Float64Array(1024);

  constructor(
    private readonly db: Database.Database,
    private readonly sql: Statements,
    private readonly clock: () => number,
    /** How long the background leaves small batches waiting for more (ms). */
    private readonly maxWaitMs = 10_000,
  ) {
    this.#batches = new BatchCache(db, sql);
  }

  /** The store changed batches itself (a delete): what the compactor keeps of them is stale. */
  batchesChanged(): void {
    this.#batches.clear();
  }

  /** Works for about `budgetMs` as the background does (small batches may wait); true when work is left. */
  step(budgetMs: number): boolean {
    const until = performance.now() + budgetMs;
    while (performance.now() < until) {
      if (this.moveRecent(false) > 0) continue;
      if (!this.#mergeNext()) return false;
    }
    return true;
  }

  /** One step of what `all()` does: some parts moved, or else one window merged; true when work is left. */
  stepNow(): boolean {
    if (this.moveRecent(true) > 0) return true;
    this.#mergeNext();
    return this.#due.size > 0 || this.sql.oldestSeqs.get(1) !== undefined;
  }

  /** Merges the next window due; false when none is. */
  #mergeNext(): boolean {
    const next = this.#due.values().next();
    if (next.done) return false;
    this.#due.delete(next.value);
    const [series, win] = next.value.split(':').map(Number) as [number, number];
    this.mergeWindow(series, win);
    return true;
  }

  /** Runs until nothing is left, merging every window of several chunks: what `SqliteStore.compact()` does. */
  all(): void {
    while (this.moveRecent(true) > 0);
    for (const { series_id, win } of this.sql.fragmented.all()) this.#due.add(`${series_id}:${win}`);
    while (this.step(1000));
  }

  /** Marks the windows holding expired points for a merge (which drops them). */
  expire(): void {
    for (const { series_id, win } of this.sql.expiredWindows.all(this.clock())) this.#due.add(`${series_id}:${win}`);
  }

  /**
   * Moves some series' parts out of the oldest batches into chunks: every part of each chosen series in those
   * batches at once (one chunk per series and window, however many requests it spans), series after series in
   * order of appearance, about {@link POINTS_PER_STEP} points a step (a series with more: its oldest parts, each
   * part whole). A batch goes once all its parts have moved;
   * until then `recent_taken` marks the moved ones. Unless `now`, leaves batches too small to be worth it for a
   * while (see {@link MIN_POINTS_PER_SERIES}). Returns how many points it moved.
   */
  moveRecent(now: boolean): number {
    let moved = 0;
    const move = this.db.transaction(() => {
      const batches = this.#batches.oldest(BATCHES_PER_STEP);
      // Points per series waiting in these batches, in order of appearance (by id in a reused array: a step looks
      // at every entry of 64 batches, tens of thousands with many series).
      const order: number[] = [];
      const totals = this.#totals(batches);
      for (const { fields, taken } of batches) {
        for (let i = 0; i < taken.length; i++) {
          if (taken[i] !== 0) continue;
          const id = fields[i * F] as number;
          if (totals[id] === 0) order.push(id);
          totals[id] = (totals[id] as number) + (fields[i * F + 3] as number);
        }
      }
      const chosen = this.#chosen(order, totals, now, batches.length);
      if (chosen.ids.length === 0) return;
      // One series with more points than a step moves its oldest parts (the rest, written later, stay newer).
      const oversized = chosen.points > POINTS_PER_STEP;
      const parts = new Map<number, StoredRow[]>();
      for (const batch of batches) {
        const { seq, fields, taken } = batch;
        let data: Uint8Array | undefined;
        let left = 0;
        for (let i = 0; i < taken.length; i++) {
          if (taken[i] !== 0) continue;
          const f = i * F;
          const id = fields[f] as number;
          if (totals[id] !== CHOSEN || (oversized && moved >= POINTS_PER_STEP)) {
            left++;
            continue;
          }
          moved += fields[f + 3] as number;
          data ??= this.#batches.data(batch);
          const offset = fields[f + 5] as number;
          const row = { seq, first: fields[f + 1] as number, last: fields[f + 2] as number, expires: (fields[f + 4] as number) || null, data: data.subarray(offset, offset + (fields[f + 6] as number)) };
          const list = parts.get(id);
          if (list) list.push(row);
          else parts.set(id, [row]);
          taken[i] = 1;
        }
        if (left === 0) {
          this.sql.deleteBatch.run(seq);
          this.sql.deleteTaken.run(seq);
        } else if (data) this.sql.setTaken.run(seq, taken);
      }
      for (const [id, rows] of parts) {
        const storage = this.#storageOf(id);
        const seq = (rows.at(-1) as StoredRow).seq;
        const { touched } = this.#write(id, storage, seq, rows.map((r) => recentSource(storage, r)), true);
        for (const win of touched) {
          if ((this.sql.windowSize.get(id, win) as { n: number }).n >= FRAGMENTS) this.#due.add(`${id}:${win}`);
        }
      }
    });
    try {
      move.immediate();
    } catch (error) {
      // Rolled back: what the cache marked as moved is not.
      this.#batches.clear();
      throw error;
    }
    return moved;
  }

  /** A zeroed array of a slot per series id of these batches (reused from step to step). */
  #totals(batches: readonly CachedBatch[]): Float64Array {
    let top = 0;
    for (const { fields } of batches) for (let i = 0; i < fields.length; i += F) top = Math.max(top, fields[i] as number);
    if (!Number.isInteger(top) || top > 2 ** 31) throw new RangeError(`batch directory: series id ${top} out of range`);
    if (this.#slots.length <= top) this.#slots = new Float64Array(Math.max(top + 1, 2 * this.#slots.length));
    else this.#slots.fill(0, 0, top + 1);
    return this.#slots;
  }

  /**
   * The series this step moves (their slots in `totals` set to {@link CHOSEN}): in order of appearance, about
   * {@link POINTS_PER_STEP} points — none when the background should wait for more (see {@link MIN_POINTS_PER_SERIES}).
   */
  #chosen(order: readonly number[], totals: Float64Array, now: boolean, batches: number): { ids: number[]; points: number } {
    const none = { ids: [], points: 0 };
    if (order.length === 0) return none;
    if (!now) {
      let waiting = 0;
      for (const id of order) waiting += totals[id] as number;
      const at = performance.now();
      this.#waitingSince ??= at;
      if (batches < BATCHES_PER_STEP && waiting < MIN_POINTS_PER_SERIES * order.length && at - this.#waitingSince < this.maxWaitMs) return none;
      this.#waitingSince = undefined;
    }
    const ids: number[] = [];
    let points = 0;
    for (const id of order) {
      const count = totals[id] as number;
      if (count === CHOSEN) continue;
      if (ids.length > 0 && points + count > POINTS_PER_STEP) break;
      ids.push(id);
      points += count;
      totals[id] = CHOSEN;
    }
    return { ids, points };
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
    this.#batches.clear();
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
