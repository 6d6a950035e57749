/**
 * Background compaction of the SQLite store, off the request path and in bounded steps, each one transaction (a
 * crash leaves either the rows before or the chunks after): recent rows become chunks (keeping expired points,
 * which still hide older ones), and a window's several chunks become one (dropping expired and hidden points).
 */
import type Database from 'better-sqlite3';
import { SourceMerge, type Source } from '../chunk/merge.js';
import type { StorageKind } from '../../types/value-type.js';
import { DIRECTORY_FIELDS as F, directoryFields, takenOf } from './batch.js';
import { ChunkCutter, chunkSource, MAX_CHUNK_POINTS, recentSource, type StoredRow } from './chunk-rows.js';
import type { Statements } from './statements.js';

/** Points one step moves from batches into chunks (a step is one transaction, some tens of ms). */
const POINTS_PER_STEP = 65_536;
/** Batches one step looks at: a series' parts in all of them become one chunk. */
const BATCHES_PER_STEP = 64;
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
   * Moves some series' parts out of the oldest batches into chunks: every part of each chosen series in those
   * batches at once (one chunk per series and window, however many requests it spans), series after series in
   * order of appearance, about {@link POINTS_PER_STEP} points a step. A batch goes once all its parts have moved;
   * until then `recent_taken` marks the moved ones. Returns how many points it moved.
   */
  moveRecent(): number {
    let moved = 0;
    this.db
      .transaction(() => {
        const batches = this.sql.oldestDirectories.all(BATCHES_PER_STEP).map((b) => {
          const fields = directoryFields(b.dir);
          return { seq: b.seq, fields, taken: takenOf(b.taken, fields.length / F) };
        });
        const totals = new Map<number, number>();
        for (const { fields, taken } of batches) {
          for (let i = 0; i < taken.length; i++) {
            if (taken[i] !== 0) continue;
            const id = fields[i * F] as number;
            totals.set(id, (totals.get(id) ?? 0) + (fields[i * F + 3] as number));
          }
        }
        const chosen = new Set<number>();
        for (const [id, count] of totals) {
          if (chosen.size > 0 && moved + count > POINTS_PER_STEP) break;
          chosen.add(id);
          moved += count;
        }
        if (chosen.size === 0) return;
        const parts = new Map<number, StoredRow[]>();
        for (const { seq, fields, taken } of batches) {
          let data: Uint8Array | undefined;
          let left = 0;
          for (let i = 0; i < taken.length; i++) {
            if (taken[i] !== 0) continue;
            const f = i * F;
            const id = fields[f] as number;
            if (!chosen.has(id)) {
              left++;
              continue;
            }
            data ??= (this.sql.batchData.get(seq) as { data: Uint8Array }).data;
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
