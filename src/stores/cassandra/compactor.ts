/**
 * Background compaction of layout 3's chunks, in two stages:
 * 1. Tiers, as writes land: after `TIER` small chunks written to a partition by this store, the tail of its write order
 *    from the first of them is merged into one chunk (tier 1); after `TIER` tier-1 merges, the tail from the first of
 *    those (tier 2). An open bucket written a point per request thus holds a few dozen chunks, not thousands.
 * 2. Sweeps of closed buckets (maintenance.ts, through `compactWhole`): every partition of a bucket that ended is merged whole (expired points
 *    dropped) into pieces of PIECE_POINTS points, under a lease (a lightweight transaction) so that one instance
 *    sweeps a bucket; a bucket swept is marked for two bucket widths.
 * Every merge is deterministic and deletes only the chunks it read, so two instances merging one partition at once
 * converge and a chunk written meanwhile is kept. The work runs at most `concurrency` partitions at once, from a
 * bounded queue (a partition that finds the queue full waits for the next tier or the sweep), never on the write path.
 */
import type { Logger } from '../../logger.js';
import type { ChunkKey } from './chunks.js';
import { Lru } from './lru.js';
import { compactPartition, type PartitionIo, type PartitionKey } from './partition.js';

/** Points from which a chunk counts as large: tiers merge only small ones. */
export const SMALL_CHUNK_POINTS = 256;
/** Chunks per tier before they are merged. */
export const TIER = 16;
/** Partitions waiting for a tier merge at most. */
const QUEUE_LIMIT = 10_000;
/**
 * Partitions whose tiers are followed at least (least recently written forgotten first; a forgotten one waits for
 * the sweep). Each costs ~150 bytes of heap: 200,000 of them (twice that held) grew the heap V8 marks on every major
 * collection while a million new series came in.
 */
const TRACKED = 50_000;
/** A failed merge is logged at most this often (a replica down fails every merge until it is back). */
const WARN_EVERY_MS = 60_000;

/**
 * The seq of the first chunk (this store's) written since the last tier-1 merge and their count, then the same of
 * tier-1 merges since the last tier-2 (seq NaN: none); one small array a partition.
 */
type Tiers = [number, number, number, number];

export interface CompactorSettings {
  readonly io: PartitionIo;
  /** The writer id of this store's chunks (the only ones it counts). */
  readonly writer: Buffer;
  readonly bucketWidthMs: number;
  readonly concurrency: number;
  readonly clock: () => number;
  readonly logger: Logger;
}

export class Compactor {
  readonly #settings: CompactorSettings;
  readonly #tiers = new Lru<Tiers>(TRACKED);
  readonly #queue = new Map<string, { key: PartitionKey; from: ChunkKey }>();
  #running = 0;
  #stopped = false;
  readonly #idle = new Set<() => void>();
  /** Chunks merged since the store opened, for `figures()`. */
  merged = 0;
  /** Background merges that failed since the store opened (their chunks kept), for `figures()`. */
  failed = 0;
  #unreported = 0;
  #warnedAt = -Infinity;

  constructor(settings: CompactorSettings) {
    this.#settings = settings;
  }

  /**
   * Counts a chunk of `points` written to a partition (`name`: any string that names it, e.g. the planner's key). A
   * chunk of SMALL_CHUNK_POINTS or more is not counted: merging such chunks as they come cost more than it gave (10
   * series × 1,000 points a request: 1.5 M → 0.8 M points/s), and the sweep merges them once their bucket closes.
   */
  wrote(name: string, key: PartitionKey, chunk: ChunkKey, points: number): void {
    if (this.#stopped || this.#settings.concurrency === 0 || points >= SMALL_CHUNK_POINTS) return;
    let tiers = this.#tiers.get(name);
    if (!tiers) this.#tiers.set(name, (tiers = [Number.NaN, 0, Number.NaN, 0]));
    if (Number.isNaN(tiers[0])) tiers[0] = chunk.seq;
    if (++tiers[1] < TIER || this.#queue.has(name) || this.#queue.size >= QUEUE_LIMIT) return;
    // The tail from the run's first chunk on (chunks written meanwhile included) is merged; a new run starts.
    const first = tiers[0];
    const upper = Number.isNaN(tiers[2]) ? first : tiers[2];
    const tier = tiers[3] + 1 >= TIER ? 1 : 0;
    if (tier === 1) tiers.splice(0, 4, Number.NaN, 0, Number.NaN, 0);
    else tiers.splice(0, 4, Number.NaN, 0, upper, tiers[3] + 1);
    this.#queue.set(name, { key, from: { seq: tier === 1 ? upper : first, writer: this.#settings.writer } });
    this.#drain();
  }

  /** Queue length and merges in flight (0 and 0: idle). */
  get pending(): number {
    return this.#queue.size + this.#running;
  }

  /** Resolves when no merge is queued or running. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  stop(): void {
    this.#stopped = true;
    this.#queue.clear();
  }

  /** Merges a whole partition now (a sweep's step); the number of chunks merged. */
  async compactWhole(key: PartitionKey): Promise<number> {
    const merged = await compactPartition(this.#settings.io, key, { now: this.#settings.clock(), bucketWidthMs: this.#settings.bucketWidthMs, minChunks: 2 });
    this.#count(merged);
    return merged;
  }

  #drain(): void {
    while (this.#running < this.#settings.concurrency && this.#queue.size > 0 && !this.#stopped) {
      const [name, job] = this.#queue.entries().next().value as [string, { key: PartitionKey; from: ChunkKey }];
      this.#queue.delete(name);
      this.#running++;
      void this.#merge(name, job).finally(() => {
        this.#running--;
        if (this.pending === 0) for (const resolve of this.#idle) resolve();
        if (this.pending === 0) this.#idle.clear();
        setImmediate(() => this.#drain());
      });
    }
  }

  async #merge(name: string, { key, from }: { key: PartitionKey; from: ChunkKey }): Promise<void> {
    try {
      const merged = await compactPartition(this.#settings.io, key, { from, now: this.#settings.clock(), bucketWidthMs: this.#settings.bucketWidthMs, minChunks: 2 });
      this.#count(merged);
    } catch (error) {
      // Nothing is lost: the chunks stay as they were until a later merge or the sweep takes them.
      this.failed++;
      this.#unreported++;
      if (performance.now() - this.#warnedAt < WARN_EVERY_MS) return;
      this.#warnedAt = performance.now();
      this.#settings.logger.warn({ err: error, partition: name, failed: this.#unreported }, `koa-kairosdb: ${this.#unreported} chunk merge(s) failed since the last warning; their chunks are kept as they are`);
      this.#unreported = 0;
    }
  }

  #count(merged: number): void {
    this.merged += merged;
  }
}
