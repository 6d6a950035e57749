/**
 * Background compaction of the SQLite store, off the request path and in bounded steps: recent rows become chunks
 * (keeping expired points, which still hide older ones), and a window's several chunks become one (dropping expired
 * and hidden points). A step reads and encodes from a snapshot, then commits in one short transaction if the file
 * still holds what it read (a crash leaves either the rows before or the chunks after).
 */
import type Database from 'better-sqlite3';
import { SourceMerge, type Source } from '../chunk/merge.js';
import type { StorageKind } from '../../types/value-type.js';
import { DIRECTORY_FIELDS as F } from './batch.js';
import { BatchCache, type CachedBatch } from './batch-cache.js';
import { MovePlan, type PartRef } from './move-plan.js';
import { isExactRaw } from '../chunk/raw.js';
import { ChunkCutter, chunkSource, MAX_CHUNK_POINTS, recentSlice, recentSource, type ChunkRow, type StoredRow } from './chunk-rows.js';
import type { ChunkBounds, Statements } from './statements.js';

/** Points one step moves from batches into chunks (prepared from a snapshot, committed in one short transaction). */
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
/** Batches waiting past which each write also moves points (see Compactor.keepUp). */
const HIGH_WATER = 2 * BATCHES_PER_STEP;
/** A window with this many chunks is merged. */
const FRAGMENTS = 8;
/** Windows with more points are left in several chunks (each step stays small). */
const MAX_WINDOW_POINTS = 16 * MAX_CHUNK_POINTS;

/**
 * Numbers of one part, or a piece of it, where they lie in their batch's data: `length` timestamps from index `times`
 * of `columns`, their values from index `values`; all expiring at `expires` (ms, 0 never).
 */
interface Span {
  readonly columns: Float64Array;
  readonly times: number;
  readonly values: number;
  readonly length: number;
  readonly expires: number;
}

/** A series' chunk rows, ready to insert. */
interface Written {
  readonly rows: (ChunkRow & { readonly id: number; readonly seq: number })[];
  points: number;
}

/** A step's work, prepared from a snapshot of the file and committed in one short transaction. */
interface Prepared {
  /** Whether the file still holds what the work was prepared from (asked in the commit's transaction). */
  readonly current: () => boolean;
  /** Batches whose every part moved (deleted), and those with some parts moved (their marks rewritten). */
  readonly emptied: readonly CachedBatch[];
  readonly marked: readonly CachedBatch[];
  readonly chunks: Written['rows'];
  /** Chunks the rows replace (a window's merge). */
  readonly replaced: readonly number[];
  /** Windows (`series:win`) that will hold many chunks: due for a merge once committed. */
  readonly due: readonly string[];
  /** Points moved from batches into chunks, and stored points a merge drops (expired or hidden). */
  readonly points: number;
  readonly removed: number;
}

/**
 * How compaction shares the file with another thread of the process that writes to it (the store's thread and its
 * compaction worker). A step reads and encodes from a snapshot without the write lock — the other side's writes go
 * on — and takes the lock only to commit, if the file still holds what it read (another process may write too).
 */
export interface Sharing {
  /** Runs a transaction holding the write lock. */
  exclusive<T>(work: () => T): T;
  /**
   * Whether the other side deleted whole series since last asked (their ids may name other series now, so what the
   * compactor knows of ids goes, and the step is not committed); asked holding the lock.
   */
  idsChanged(): boolean;
}

/** Compaction with no other thread writing to the file. */
export const ALONE: Sharing = { exclusive: (work) => work(), idsChanged: () => false };

/**
 * Numeric parts as spans in time order, when no two overlap (the usual case: requests bring newer points, some
 * arriving a little out of order) — they need no merge; undefined when two overlap, or a batch's data cannot be
 * read in place.
 */
function disjointSpans(cache: BatchCache, batches: readonly CachedBatch[], parts: readonly PartRef[]): Span[] | undefined {
  const spans: Span[] = [];
  for (const { batch: b, entry: i, from, to } of parts) {
    const batch = batches[b] as CachedBatch;
    const columns = cache.numbers(batch);
    if (!columns || to <= from) return undefined;
    const f = i * F;
    const at = (batch.fields[f + 5] as number) / 8;
    const count = batch.fields[f + 3] as number;
    // A part with longs beyond ±(2^53−1) is a codec chunk, not float64s (raw.ts): it is merged as a source.
    if (isExactRaw(batch.fields[f + 6] as number)) return undefined;
    spans.push({ columns, times: at + from, values: at + count + from, length: to - from, expires: batch.fields[f + 4] as number });
  }
  spans.sort((a, b) => (a.columns[a.times] as number) - (b.columns[b.times] as number));
  for (let k = 1; k < spans.length; k++) {
    const before = spans[k - 1] as Span;
    const span = spans[k] as Span;
    if ((span.columns[span.times] as number) <= (before.columns[before.times + before.length - 1] as number)) return undefined;
  }
  return spans;
}

/** Whether a window's chunks are those it had (a delete rewrites a chunk in place, with fewer points). */
function sameChunks(now: readonly ChunkBounds[], then: readonly ChunkBounds[]): boolean {
  const key = (c: ChunkBounds) => `${c.id}:${c.count}:${c.first}:${c.last}`;
  const before = new Set(then.map(key));
  return now.length === then.length && now.every((c) => before.has(key(c)));
}

export class Compactor {
  /** Windows (`series:win`) due for a merge. */
  readonly #due = new Set<string>();
  readonly #storage = new Map<number, StorageKind>();
  /** Stored points merges have removed (expired, or hidden by a later write), since the store opened. */
  removed = 0;
  /** Points moved from batches into chunks since the store opened. */
  moved = 0;
  /** Since when the background has left waiting batches for more (performance.now()). */
  #waitingSince: number | undefined;
  readonly #batches: BatchCache;
  /** The series waiting in the oldest batches, as steps work through them. */
  #plan: MovePlan | undefined;
  /** A cutter per storage kind, and the series whose rows it is cutting now. */
  readonly #cutters = new Map<StorageKind, ChunkCutter>();
  #into: { id: number; seq: number; written: Written } = { id: 0, seq: 0, written: { rows: [], points: 0 } };

  constructor(
    private readonly db: Database.Database,
    private readonly sql: Statements,
    private readonly clock: () => number,
    /** How long the background leaves small batches waiting for more (ms). */
    private readonly maxWaitMs = 10_000,
    /** The other thread writing to the file, if any. */
    private readonly sharing: Sharing = ALONE,
  ) {
    this.#batches = new BatchCache(sql);
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

  /**
   * Back-pressure from a write of `points` points: when more than {@link HIGH_WATER} batches wait (the background
   * falls behind a busy writer), moves at least as many points as the write brought, before it is answered.
   */
  keepUp(points: number): void {
    if (!this.behind()) return;
    for (let moved = 0; moved < points; ) {
      const n = this.moveRecent(true);
      if (n === 0) return;
      moved += n;
    }
  }

  /** Whether more than {@link HIGH_WATER} batches wait: the background falls behind the writes. */
  behind(): boolean {
    return (this.sql.backlog.get() as { n: number }).n > HIGH_WATER;
  }

  /** One step of the background's work without its wait: some parts moved, or else one window due merged; true when work is left. */
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
   * order of appearance, about {@link POINTS_PER_STEP} points a step (a series with more: its oldest points, a
   * part larger than a step in pieces). A batch goes once all its parts have moved; until then `recent_taken` marks
   * the moved ones. Unless `now`, leaves batches too small to be worth it for a while (see
   * {@link MIN_POINTS_PER_SERIES}). Returns how many points it moved.
   */
  moveRecent(now: boolean): number {
    return this.#prepareAndCommit(() => this.#prepareMove(now))?.points ?? 0;
  }

  /**
   * Prepares a step from a snapshot and commits it; prepares it again when another writer changed what it read in
   * between (each commit that made it stale is progress). Returns what was committed; undefined when nothing was due.
   */
  #prepareAndCommit(prepare: () => Prepared | undefined): Prepared | undefined {
    for (;;) {
      const prepared = this.#readOnly(prepare);
      if (!prepared || this.#commit(prepared)) return prepared;
    }
  }

  /** What {@link moveRecent} commits: the parts it moves as chunk rows, and what becomes of their batches. */
  #prepareMove(now: boolean): Prepared | undefined {
    const batches = this.#batches.oldest(BATCHES_PER_STEP);
    if (!this.#plan?.of(batches)) this.#plan = new MovePlan(batches);
    const plan = this.#plan;
    if (plan.series === 0 || (!now && !this.#worthMoving(plan, batches.length))) return undefined;
    const { left } = plan;
    const touched = new Set<number>();
    // The batches read from, as read (before this step marks parts moved).
    const read = new Map<CachedBatch, Uint8Array>();
    const chunks: Written['rows'] = [];
    let points = 0;
    for (const { id, parts, points: n } of plan.take(POINTS_PER_STEP)) {
      const storage = this.#storageOf(id);
      const spans = storage === 'long' || storage === 'double' ? disjointSpans(this.#batches, batches, parts) : undefined;
      const seq = (batches[(parts.at(-1) as PartRef).batch] as CachedBatch).seq;
      const written = spans ? this.#writeSpans(id, storage, seq, spans) : this.#write(id, storage, seq, parts.map((p) => this.#partSource(storage, batches, p)), true);
      // A piece of a part moves into chunks while the part stays whole in its batch: a read finds those points in
      // both, with the same seq and value, until the part's last piece has moved.
      for (const { batch: b, entry: i, ends } of parts) {
        const batch = batches[b] as CachedBatch;
        if (!read.has(batch)) read.set(batch, batch.taken.slice());
        if (!ends) continue;
        batch.taken[i] = 1;
        left[b] = (left[b] as number) - 1;
        touched.add(b);
      }
      chunks.push(...written.rows);
      points += n;
    }
    const emptied = [...touched].filter((b) => left[b] === 0).map((b) => batches[b] as CachedBatch);
    const marked = [...touched].filter((b) => left[b] !== 0).map((b) => batches[b] as CachedBatch);
    const current = () => [...read].every(([batch, taken]) => this.#batches.unchanged(batch, taken));
    return { current, emptied, marked, chunks, replaced: [], due: this.#fragmented(chunks), points, removed: 0 };
  }

  /** The windows that will hold {@link FRAGMENTS} chunks or more once `chunks` are added (counted in the snapshot; a merge checks again). */
  #fragmented(chunks: Written['rows']): string[] {
    const added = new Map<string, number>();
    for (const c of chunks) added.set(`${c.id}:${c.win}`, (added.get(`${c.id}:${c.win}`) ?? 0) + 1);
    return [...added].filter(([key, n]) => {
      const [id, win] = key.split(':').map(Number) as [number, number];
      return (this.sql.windowSize.get(id, win) as { n: number }).n + n >= FRAGMENTS;
    }).map(([key]) => key);
  }

  /**
   * Commits prepared work in one transaction holding the write lock, unless another writer changed what it was
   * prepared from (then nothing is written and what the cache marked as moved is forgotten); windows that now have
   * many chunks become due for a merge.
   */
  #commit(prepared: Prepared): boolean {
    const commit = this.db.transaction(() => {
      if (this.sharing.idsChanged()) {
        this.forget();
        return false;
      }
      if (!prepared.current()) return false;
      for (const { seq } of prepared.emptied) {
        this.sql.deleteBatch.run(seq);
        this.sql.deleteTaken.run(seq);
      }
      for (const { seq, taken } of prepared.marked) this.sql.setTaken.run(seq, taken);
      for (const c of prepared.chunks) this.sql.insertChunk.run(c.id, c.win, c.seq, c.first, c.last, c.count, c.expires, c.data);
      for (const id of prepared.replaced) this.sql.deleteChunk.run(id);
      for (const key of prepared.due) this.#due.add(key);
      this.moved += prepared.points;
      this.removed += prepared.removed;
      return true;
    });
    let done = false;
    try {
      done = this.sharing.exclusive(() => commit.immediate());
    } finally {
      // Rolled back or stale: what the cache marked as moved is not.
      if (!done) this.#batches.clear();
    }
    return done;
  }

  /** Reads in one snapshot of the file (a deferred transaction: the other side may write meanwhile). */
  #readOnly<T>(reads: () => T): T {
    // Asked again when committing: a delete may come between; asked here, a step does not read with old ids.
    if (this.sharing.idsChanged()) this.forget();
    try {
      return this.db.transaction(reads).deferred();
    } catch (error) {
      this.#batches.clear();
      throw error;
    }
  }

  /** Whether the waiting parts are worth chunks now (see {@link MIN_POINTS_PER_SERIES}); starts the wait if not. */
  #worthMoving(plan: MovePlan, batches: number): boolean {
    const at = performance.now();
    this.#waitingSince ??= at;
    if (batches < BATCHES_PER_STEP && plan.waiting < MIN_POINTS_PER_SERIES * plan.series && at - this.#waitingSince < this.maxWaitMs) return false;
    this.#waitingSince = undefined;
    return true;
  }

  /** Merges the chunks of one window into as few as fit, dropping expired points; leaves very large windows. */
  mergeWindow(id: number, win: number): void {
    this.#prepareAndCommit(() => this.#prepareMerge(id, win));
  }

  #prepareMerge(id: number, win: number): Prepared | undefined {
    const rows = this.sql.windowChunks.all(id, win);
    const now = this.clock();
    const expired = rows.some((r) => r.expires !== null && r.expires <= now);
    if (rows.length < 2 && !expired) return undefined;
    const points = rows.reduce((n, r) => n + r.count, 0);
    if (points > MAX_WINDOW_POINTS) return undefined;
    const seq = Math.max(...rows.map((r) => r.seq));
    const written = this.#write(id, this.#storageOf(id), seq, rows.map(chunkSource), false);
    const current = () => sameChunks(this.sql.windowChunkBounds.all(id, win), rows);
    return { current, emptied: [], marked: [], chunks: written.rows, replaced: rows.map((r) => r.id), due: [], points: 0, removed: points - written.points };
  }

  /** Cuts the merge of `sources` into chunk rows with `seq` (inserted when the step commits). */
  #write(id: number, storage: StorageKind, seq: number, sources: Source[], keepExpired: boolean): Written {
    const { cutter, written } = this.#cutter(id, storage, seq);
    const merge = new SourceMerge(sources, { start: -Infinity, end: Infinity, now: this.clock(), desc: false, keepExpired });
    for (;;) {
      const page = merge.next(MAX_CHUNK_POINTS, true);
      if (page.timestamps.length === 0) break;
      cutter.add(page);
    }
    cutter.flush();
    return written;
  }

  /** Cuts spans of numbers one after another in time (no merge needed) into chunk rows with `seq`. */
  #writeSpans(id: number, storage: StorageKind, seq: number, spans: readonly Span[]): Written {
    const { cutter, written } = this.#cutter(id, storage, seq);
    for (const s of spans) cutter.addSpan(s.columns, s.times, s.values, s.length, s.expires);
    cutter.flush();
    return written;
  }

  /** A part (or the piece `from`–`to` of it) as a source of a merge. */
  #partSource(storage: StorageKind, batches: readonly CachedBatch[], { batch: b, entry: i, from, to, ends }: PartRef): Source {
    const batch = batches[b] as CachedBatch;
    const f = i * F;
    const offset = batch.fields[f + 5] as number;
    const data = this.#batches.data(batch).subarray(offset, offset + (batch.fields[f + 6] as number));
    const row: StoredRow = { seq: batch.seq, first: batch.fields[f + 1] as number, last: batch.fields[f + 2] as number, expires: (batch.fields[f + 4] as number) || null, data };
    return from === 0 && ends ? recentSource(storage, row) : recentSlice(storage, row, from, to);
  }

  /**
   * A cutter gathering the chunk rows of series `id` with `seq`, and what it has written. One cutter per storage kind
   * serves every series (its columns grown once), emptied first of what a failed step may have left in it.
   */
  #cutter(id: number, storage: StorageKind, seq: number): { cutter: ChunkCutter; written: Written } {
    const written: Written = { rows: [], points: 0 };
    const into = { id, seq, written };
    this.#into = into;
    let cutter = this.#cutters.get(storage);
    if (!cutter) {
      cutter = new ChunkCutter(storage, (c) => {
        this.#into.written.rows.push({ ...c, id: this.#into.id, seq: this.#into.seq });
        this.#into.written.points += c.count;
      });
      this.#cutters.set(storage, cutter);
    }
    cutter.discard();
    return { cutter, written };
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
      // A cache: a million series must not mean a million entries.
      if (this.#storage.size >= 65_536) this.#storage.clear();
      this.#storage.set(id, storage);
    }
    return storage;
  }
}
