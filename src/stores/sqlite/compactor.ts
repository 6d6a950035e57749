/**
 * Background compaction of the SQLite store, off the request path and in bounded steps, each one transaction (a
 * crash leaves either the rows before or the chunks after): recent rows become chunks (keeping expired points,
 * which still hide older ones), and a window's several chunks become one (dropping expired and hidden points).
 */
import type Database from 'better-sqlite3';
import { SourceMerge, type Source } from '../chunk/merge.js';
import type { StorageKind } from '../../types/value-type.js';
import { readDirectory, type BatchEntry } from './batch.js';
import { ChunkCutter, chunkSource, MAX_CHUNK_POINTS, recentSource, type StoredRow } from './chunk-rows.js';
import type { Statements } from './statements.js';

/** Points one step moves from batches into chunks (a step is one transaction, some tens of ms). */
const POINTS_PER_STEP = 65_536;
/** Batches one step looks at. */
const BATCHES_PER_STEP = 16;
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

  /**
   * Moves the oldest batches' parts into chunks, in write order, about {@link POINTS_PER_STEP} points at a time (a
   * batch taken in part keeps the rest of its directory). Returns how many points it moved.
   */
  moveRecent(): number {
    let moved = 0;
    this.db
      .transaction(() => {
        const taken = new Map<number, StoredRow[]>();
        let whole = -1;
        for (const batch of this.sql.oldestDirectories.all(BATCHES_PER_STEP)) {
          const entries = readDirectory(batch.dir);
          let pending = 0;
          for (let i = batch.taken; i < entries.length; i++) pending += (entries[i] as BatchEntry).count;
          // Whole batches while they fit in the step; a batch larger than a step alone is moved in parts.
          if (moved > 0 && moved + pending > POINTS_PER_STEP) break;
          const data = (this.sql.batchData.get(batch.seq) as { data: Uint8Array }).data;
          let i = batch.taken;
          for (; i < entries.length && (pending <= POINTS_PER_STEP || moved < POINTS_PER_STEP); i++) {
            const e = entries[i] as BatchEntry;
            const row = { seq: batch.seq, first: e.first, last: e.last, expires: e.expires || null, data: data.subarray(e.offset, e.offset + e.length) };
            const list = taken.get(e.seriesId);
            if (list) list.push(row);
            else taken.set(e.seriesId, [row]);
            moved += e.count;
          }
          if (i < entries.length) {
            this.sql.setTaken.run(batch.seq, i);
            break;
          }
          whole = batch.seq;
        }
        if (whole >= 0) {
          this.sql.deleteBatchesUpTo.run(whole);
          this.sql.deleteTakenUpTo.run(whole);
        }
        for (const [id, rows] of taken) {
          const storage = this.#storageOf(id);
          const seq = (rows.at(-1) as StoredRow).seq;
          const { touched } = this.#write(id, storage, seq, rows.map((r) => recentSource(storage, r)), true);
          for (const win of touched) {
            if ((this.sql.windowSize.get(id, win) as { n: number }).n >= FRAGMENTS) this.#due.add(`${id}:${win}`);
          }
        }
      })
      .immediate();
    return moved;
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
