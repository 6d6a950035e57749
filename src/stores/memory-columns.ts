import type { StorageKind, StoredValue } from '../types/value-type.js';

/**
 * Small blocks (a new series' first points) are pieces of shared 64 KiB buffers: an `ArrayBuffer` each cost a
 * million allocations outside the heap and the collector's work on them when a million series came at once (the
 * memory store's ingest stalled the event loop for 100s of ms). A piece a series outgrew stays until its slab goes.
 */
const SLAB_BYTES = 65_536;
const SLAB_PIECE = 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

function slabPiece(bytes: number): { buffer: ArrayBuffer; offset: number } {
  if (slabUsed + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const offset = slabUsed;
  slabUsed += bytes;
  return { buffer: slab, offset };
}

/**
 * A stretch of a series' points in columns: timestamps and numbers in Float64Arrays (no object per point; a long
 * beyond ±(2^53−1) is kept exactly beside its rounded number, in `exact`), strings and bytes in an array, and expiry
 * in seconds since the epoch (rounded up, 0 never) in a Uint32Array that exists only once a point of the block has a
 * TTL.
 */
class Block {
  timestamps: Float64Array;
  numbers: Float64Array | undefined;
  others: StoredValue[] | undefined;
  expires: Uint32Array | undefined;
  /** Longs beyond ±(2^53−1) by position (`numbers` holds them rounded); absent until the block has one. */
  exact: Map<number, bigint> | undefined;

  /** Timestamps and numbers share one buffer: a block is one allocation (a small one, a piece of a shared slab). */
  constructor(capacity: number, numeric: boolean) {
    const bytes = capacity * (numeric ? 16 : 8);
    const { buffer, offset } = bytes <= SLAB_PIECE ? slabPiece(bytes) : { buffer: new ArrayBuffer(bytes), offset: 0 };
    this.timestamps = new Float64Array(buffer, offset, capacity);
    if (numeric) this.numbers = new Float64Array(buffer, offset + capacity * 8, capacity);
    else this.others = [];
  }

  get capacity(): number {
    return this.timestamps.length;
  }

  /** Copies `count` points from position `from` of the arrays to position `at`, all expiring at `expiresSec`. */
  put(at: number, timestamps: ArrayLike<number>, values: ArrayLike<StoredValue>, from: number, count: number, expiresSec: number): void {
    const t = this.timestamps;
    for (let k = 0; k < count; k++) t[at + k] = timestamps[from + k] as number;
    const numbers = this.numbers;
    if (numbers) {
      for (let k = 0; k < count; k++) {
        const value = values[from + k] as number | bigint;
        if (typeof value === 'bigint') this.#setExact(at + k, value);
        else {
          numbers[at + k] = value;
          if (this.exact) this.exact.delete(at + k);
        }
      }
    } else {
      const others = this.others as StoredValue[];
      for (let k = 0; k < count; k++) others[at + k] = values[from + k] as StoredValue;
    }
    if (expiresSec !== 0 || this.expires) this.#expiry().fill(expiresSec, at, at + count);
  }

  set(at: number, ts: number, value: StoredValue, expiresSec: number): void {
    this.timestamps[at] = ts;
    if (typeof value === 'bigint') this.#setExact(at, value);
    else if (this.numbers) {
      this.numbers[at] = value as number;
      this.exact?.delete(at);
    } else (this.others as StoredValue[])[at] = value;
    if (expiresSec !== 0 || this.expires) this.#expiry()[at] = expiresSec;
  }

  /** Room for `capacity` points, the first `used` kept (only a series' first block grows; the others are full-sized). */
  widen(capacity: number, used: number): void {
    const { timestamps, numbers, expires } = this;
    const wider = new Block(capacity, numbers !== undefined);
    wider.timestamps.set(timestamps.subarray(0, used));
    if (numbers) wider.numbers?.set(numbers.subarray(0, used));
    this.timestamps = wider.timestamps;
    this.numbers = wider.numbers;
    // `exact` stays: positions do not move.
    if (expires) (this.expires = new Uint32Array(capacity)).set(expires.subarray(0, used));
  }

  /** The value at `at` of a long block, exact. */
  value(at: number): StoredValue {
    const numbers = this.numbers;
    if (!numbers) return this.others?.[at] as StoredValue;
    return this.exact?.get(at) ?? (numbers[at] as number);
  }

  #setExact(at: number, value: bigint): void {
    (this.numbers as Float64Array)[at] = Number(value);
    (this.exact ??= new Map()).set(at, value);
  }

  #expiry(): Uint32Array {
    return (this.expires ??= new Uint32Array(this.capacity));
  }
}

/** Points per block of a long series, as a power of two: 1,024 (16 KB of numbers; a series' slack is under a block). */
const BLOCK_BITS = 10;

/**
 * One series' points, sorted by time with unique timestamps, in blocks of a fixed size: the first block grows (by
 * doubling) until it is full-sized, then points go into new blocks, so a growing series never copies what it has,
 * and its slack is less than a block. Writes that continue the series append; others merge from the first point they
 * reach, the later value winning at a timestamp. Point `i` is at position `i % size` of block `i / size`.
 */
export class SeriesColumns {
  length = 0;
  /**
   * The latest timestamp, -Infinity while empty: kept beside the length, so a write that continues the series finds
   * out without reaching into its blocks (with thousands of series those reads miss the CPU's caches).
   */
  #last = -Infinity;
  readonly #blocks: Block[];
  readonly #bits: number;
  readonly #mask: number;

  /** @param blockBits points per full block, as a power of two (small in tests, to cross block edges often). */
  constructor(
    readonly storage: StorageKind,
    blockBits = BLOCK_BITS,
  ) {
    this.#bits = blockBits;
    this.#mask = (1 << blockBits) - 1;
    this.#blocks = [new Block(Math.min(8, 1 << blockBits), this.#numeric)];
  }

  /** Adds points (any order; the later of equal timestamps wins), all expiring at `expiresSec` (0 never). */
  add(timestamps: readonly number[], values: readonly StoredValue[], expiresSec: number): void {
    const n = timestamps.length;
    if (n === 0) return;
    for (let i = 1; i < n; i++) {
      if ((timestamps[i] as number) <= (timestamps[i - 1] as number)) return this.add(...sortedRun(timestamps, values), expiresSec);
    }
    if ((timestamps[0] as number) <= this.#last) return this.#merge(timestamps, values, expiresSec);
    this.#append(timestamps, values, 0, n, expiresSec);
    this.#last = timestamps[n - 1] as number;
  }

  /** Appends points `from` to `to` of the arrays (after every point kept), block by block. */
  #append(timestamps: ArrayLike<number>, values: ArrayLike<StoredValue>, from: number, to: number, expiresSec: number): void {
    for (let i = from; i < to; ) {
      const block = this.#room(to - i);
      const at = this.length & this.#mask;
      const count = Math.min(to - i, block.capacity - at);
      block.put(at, timestamps, values, i, count, expiresSec);
      this.length += count;
      i += count;
    }
  }

  timestamp(i: number): number {
    return (this.#blocks[i >>> this.#bits] as Block).timestamps[i & this.#mask] as number;
  }

  value(i: number): StoredValue {
    return (this.#blocks[i >>> this.#bits] as Block).value(i & this.#mask);
  }

  /** Expiry of point i in seconds since the epoch; 0 never. */
  expiry(i: number): number {
    return (this.#blocks[i >>> this.#bits] as Block).expires?.[i & this.#mask] ?? 0;
  }

  /** Whether point i has not expired at `now` (ms); expiry is kept in whole seconds, as Cassandra keeps it. */
  live(i: number, now: number): boolean {
    const e = this.expiry(i);
    return e === 0 || e * 1000 > now;
  }

  /** Whether any point may expire (false: every point lives until deleted). */
  get expiring(): boolean {
    return this.#blocks.some((b) => b.expires !== undefined);
  }

  /** Bytes of the typed columns (numbers and timestamps; the strings of text series are not counted). */
  get byteLength(): number {
    let bytes = 0;
    for (const b of this.#blocks) bytes += b.timestamps.byteLength + (b.numbers?.byteLength ?? 0) + (b.expires?.byteLength ?? 0);
    return bytes;
  }

  /** Index of the first point at or after `ts` (looked for in the last block first: writes and reads mostly go there). */
  lowerBound(ts: number): number {
    if (ts > this.#last) return this.length;
    const lastBlock = (this.length - 1) & ~this.#mask;
    let low = lastBlock > 0 && this.timestamp(lastBlock) < ts ? lastBlock : 0;
    let high = this.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.timestamp(mid) < ts) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Keeps the points `keep` says yes to (deletes, expiry), in place. */
  retain(keep: (i: number) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.length; r++) {
      if (!keep(r)) continue;
      if (w !== r) this.#set(w, this.timestamp(r), this.value(r), this.expiry(r));
      w++;
    }
    this.#truncate(w);
  }

  get #numeric(): boolean {
    return this.storage === 'long' || this.storage === 'double';
  }

  #set(i: number, ts: number, value: StoredValue, expiresSec: number): void {
    (this.#blocks[i >>> this.#bits] as Block).set(i & this.#mask, ts, value, expiresSec);
  }

  /** The block that takes point `length`, with room there for `wanted` points or up to its end. */
  #room(wanted: number): Block {
    const index = this.length >>> this.#bits;
    if (index === this.#blocks.length) this.#blocks.push(new Block(this.#mask + 1, this.#numeric));
    const block = this.#blocks[index] as Block;
    const needed = Math.min(this.#mask + 1, (this.length & this.#mask) + wanted);
    if (needed > block.capacity) block.widen(Math.min(this.#mask + 1, Math.max(needed, block.capacity * 2)), this.length);
    return block;
  }

  /** Keeps the first `n` points. */
  #truncate(n: number): void {
    this.length = n;
    this.#last = n > 0 ? this.timestamp(n - 1) : -Infinity;
    this.#blocks.length = Math.max(1, Math.ceil(n / (this.#mask + 1)));
    const last = this.#blocks[n >>> this.#bits];
    if (last?.others) last.others.length = n & this.#mask;
  }

  /**
   * Merges a sorted run that does not continue the series: only the points from the run's first timestamp on move
   * (requests that arrive a little out of order touch a short tail, not the whole series).
   */
  #merge(timestamps: readonly number[], values: readonly StoredValue[], expiresSec: number): void {
    const from = this.lowerBound(timestamps[0] as number);
    const tail = this.length - from;
    const old = scratch(tail);
    for (let k = 0; k < tail; k++) {
      old.timestamps[k] = this.timestamp(from + k);
      old.values[k] = this.value(from + k);
      old.expires[k] = this.expiry(from + k);
    }
    this.#truncate(from);
    // Both sides are ascending: they go back in runs — new points up to the next kept one (which an equal new point
    // replaces), then kept points (of one expiry) up to the next new one.
    const n = timestamps.length;
    let i = 0;
    let j = 0;
    while (i < tail || j < n) {
      const next = i < tail ? (old.timestamps[i] as number) : Infinity;
      if (j < n && (timestamps[j] as number) <= next) {
        let end = j + 1;
        while (end < n && (timestamps[end] as number) <= next) end++;
        this.#append(timestamps, values, j, end, expiresSec);
        if (timestamps[end - 1] === next) i++;
        j = end;
      } else {
        const bound = j < n ? (timestamps[j] as number) : Infinity;
        const expires = old.expires[i] as number;
        let end = i + 1;
        while (end < tail && (old.timestamps[end] as number) < bound && old.expires[end] === expires) end++;
        this.#append(old.timestamps, old.values, i, end, expires);
        i = end;
      }
    }
    // The kept arrays hold no text or bytes of this series past the merge.
    if (!this.#numeric) old.values.fill(0, 0, tail);
    this.#last = this.timestamp(this.length - 1);
  }
}

/** Points of a merge's tail up to which its arrays are kept between merges (merges run one at a time). */
const SCRATCH_POINTS = 4096;
let tailScratch = tailArrays(256);

function tailArrays(points: number) {
  return { timestamps: new Float64Array(points), values: new Array<StoredValue>(points), expires: new Uint32Array(points) };
}

/** Arrays for a merge's tail of `points`: the kept ones (no allocation per merge), or new ones for a long tail. */
function scratch(points: number): ReturnType<typeof tailArrays> {
  if (points > SCRATCH_POINTS) return tailArrays(points);
  if (points > tailScratch.timestamps.length) tailScratch = tailArrays(SCRATCH_POINTS);
  return tailScratch;
}

/** Points sorted by time, the later of equal timestamps kept. */
function sortedRun(timestamps: readonly number[], values: readonly StoredValue[]): [number[], StoredValue[]] {
  const last = new Map<number, number>();
  timestamps.forEach((t, i) => last.set(t, i));
  const order = [...last.values()].sort((a, b) => (timestamps[a] as number) - (timestamps[b] as number));
  return [order.map((i) => timestamps[i] as number), order.map((i) => values[i] as StoredValue)];
}
