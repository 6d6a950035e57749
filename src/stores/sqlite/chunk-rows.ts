/**
 * How the SQLite store keeps a series' points: rows a write appends (`recent`, in write order, numbers as raw
 * float64), and chunks compaction makes of them (`chunks`, the codec's format, one time window each). Both are
 * sources of a read's merge; a higher `seq` is a later write.
 */
import { columnSlice } from '../../store-api/columns.js';
import { chunkOf, decodeChunk, encodeChunk } from '../chunk/codec.js';
import type { MergedPage, Points, Source } from '../chunk/merge.js';
import { decodeRaw, encodeRaw } from '../chunk/raw.js';
import type { StorageKind, StoredValue } from '../../types/value-type.js';

/** A chunk holds points of one window of time, so merging a window never touches another. */
export const WINDOW_MS = 2 * 3600 * 1000;

/** Most points in one chunk: a read decodes at most this many to reach one point. */
export const MAX_CHUNK_POINTS = 8192;

export const windowOf = (ts: number): number => Math.floor(ts / WINDOW_MS);

/** A row of `recent` or `chunks` with its data. */
export interface StoredRow {
  readonly seq: number;
  readonly first: number;
  readonly last: number;
  /** When every point of a recent row expires (ms), null never. Chunks carry expiry inside their data. */
  readonly expires?: number | null;
  readonly data: Uint8Array;
}

/** Numbers of a recent row are raw float64; text and bytes use the chunk codec. */
export function encodeRecent(storage: StorageKind, timestamps: readonly number[], values: readonly StoredValue[]): Uint8Array {
  if (storage === 'long' || storage === 'double') return encodeRaw(timestamps, values);
  return encodeChunk(chunkOf(storage, timestamps, values));
}

export function recentSource(storage: StorageKind, row: StoredRow): Source {
  return {
    seq: row.seq,
    first: row.first,
    last: row.last,
    load: (): Points => {
      const points = storage === 'long' || storage === 'double' ? decodeRaw(row.data) : decodeChunk(row.data);
      const at = row.expires ?? 0;
      return at === 0 ? points : { ...points, expires: new Float64Array(points.timestamps.length).fill(at) };
    },
  };
}

/** Points `from` to `to` (exclusive) of a recent row, as a source of their own. */
export function recentSlice(storage: StorageKind, row: StoredRow, from: number, to: number): Source {
  const whole = recentSource(storage, row);
  const { timestamps } = whole.load();
  return {
    seq: row.seq,
    first: timestamps[from] as number,
    last: timestamps[to - 1] as number,
    load: (): Points => {
      const { timestamps, values, expires } = whole.load();
      return { timestamps: columnSlice(timestamps, from, to), values: columnSlice(values, from, to), expires: expires && columnSlice(expires, from, to) };
    },
  };
}

export function chunkSource(row: StoredRow): Source {
  return { seq: row.seq, first: row.first, last: row.last, load: () => decodeChunk(row.data) };
}

/** A chunk row ready to insert. */
export interface ChunkRow {
  readonly win: number;
  readonly first: number;
  readonly last: number;
  readonly count: number;
  /** When its last point expires (ms); null when one never does. */
  readonly expires: number | null;
  readonly data: Uint8Array;
}

/**
 * Cuts points (ascending) into chunk rows: a new chunk at every window boundary and every {@link MAX_CHUNK_POINTS}
 * points. `emit` receives each row as soon as it is complete. Points gather in typed columns (numbers; text and
 * bytes in an array), a run of numbers copied at once.
 */
export class ChunkCutter {
  #timestamps = new Float64Array(FIRST_CAPACITY);
  #numbers: Float64Array<ArrayBuffer> | undefined;
  #others: StoredValue[] = [];
  /** The longs beyond ±(2^53−1) of the chunk being cut, by position (its numbers hold them rounded). */
  #exact: Map<number, bigint> | undefined;
  #expires = new Float64Array(FIRST_CAPACITY);
  #count = 0;
  /** Points of the chunk being cut that never expire, and the latest expiry of the others. */
  #never = 0;
  #latest = 0;
  #win = NaN;
  /** The window's end: the first timestamp of the next one. */
  #end = -Infinity;

  constructor(
    private readonly storage: StorageKind,
    private readonly emit: (row: ChunkRow) => void,
  ) {
    if (storage === 'long' || storage === 'double') this.#numbers = new Float64Array(FIRST_CAPACITY);
  }

  /** Adds a page of merged points. */
  add(page: MergedPage): void {
    const { timestamps, values, expires } = page;
    for (let i = 0; i < timestamps.length; i++) {
      const t = timestamps[i] as number;
      if (t >= this.#end || this.#count === MAX_CHUNK_POINTS) this.flush(windowOf(t));
      this.#reserve(1);
      const at = this.#count++;
      this.#timestamps[at] = t;
      const value = values[i] as StoredValue;
      if (typeof value === 'bigint') (this.#exact ??= new Map()).set(at, value);
      if (this.#numbers) this.#numbers[at] = Number(value);
      else this.#others.push(value);
      this.#expiring(at, 1, expires?.[i] ?? 0);
    }
  }

  /**
   * Adds `length` numbers (a numeric storage) lying in `columns` — timestamps from index `times`, values from index
   * `values` (a part in its batch's data, read in place) — all expiring at `expires` (0 never); the first after the
   * last point added.
   */
  addSpan(columns: Float64Array, times: number, values: number, length: number, expires: number): void {
    for (let i = 0; i < length; ) {
      const t = columns[times + i] as number;
      if (t >= this.#end || this.#count === MAX_CHUNK_POINTS) this.flush(windowOf(t));
      // As many as fit in this chunk and this window.
      let stop = Math.min(length, i + MAX_CHUNK_POINTS - this.#count);
      if ((columns[times + stop - 1] as number) >= this.#end) stop = firstAtOrAfter(columns, this.#end, times + i, times + stop) - times;
      this.#reserve(stop - i);
      const at = this.#count - i;
      const timestamps = this.#timestamps;
      const numbers = this.#numbers as Float64Array;
      for (let k = i; k < stop; k++) {
        timestamps[at + k] = columns[times + k] as number;
        numbers[at + k] = columns[values + k] as number;
      }
      this.#expiring(this.#count, stop - i, expires);
      this.#count += stop - i;
      i = stop;
    }
  }

  /** Drops the chunk being cut, if any (what a failed step left): the cutter starts afresh. */
  discard(): void {
    this.#count = 0;
    this.flush();
  }

  /** Emits the chunk being cut, if any; the next starts in window `win`. */
  flush(win = NaN): void {
    const count = this.#count;
    if (count > 0) {
      const timestamps = this.#timestamps.subarray(0, count);
      const expires = this.#never === count ? undefined : this.#expires.subarray(0, count);
      this.emit({
        win: this.#win,
        first: timestamps[0] as number,
        last: timestamps[count - 1] as number,
        count,
        expires: this.#never > 0 ? null : this.#latest,
        data: encodeChunk({ storage: this.storage, timestamps, values: this.#values(count), expires }),
      });
    }
    this.#count = 0;
    this.#never = 0;
    this.#latest = 0;
    this.#others = [];
    this.#exact = undefined;
    this.#win = win;
    this.#end = Number.isNaN(win) ? -Infinity : (win + 1) * WINDOW_MS;
  }

  /** The values of the chunk being cut: its numbers, with the exact longs in place when it has any. */
  #values(count: number): readonly StoredValue[] | Float64Array {
    if (!this.#numbers) return this.#others;
    const numbers = this.#numbers.subarray(0, count);
    if (!this.#exact) return numbers;
    const values: StoredValue[] = Array.from(numbers);
    for (const [at, value] of this.#exact) values[at] = value;
    return values;
  }

  /** Room for `n` more points (at most a chunk's): the columns grow as a chunk does, most chunks being small. */
  #reserve(n: number): void {
    const need = this.#count + n;
    if (need <= this.#timestamps.length) return;
    const size = Math.min(MAX_CHUNK_POINTS, Math.max(need, 2 * this.#timestamps.length));
    this.#timestamps = grown(this.#timestamps, size, this.#count);
    this.#expires = grown(this.#expires, size, this.#count);
    if (this.#numbers) this.#numbers = grown(this.#numbers, size, this.#count);
  }

  #expiring(at: number, n: number, expires: number): void {
    this.#expires.fill(expires, at, at + n);
    if (expires === 0) this.#never += n;
    else if (expires > this.#latest) this.#latest = expires;
  }
}

/** Points a cutter has room for before it grows. */
const FIRST_CAPACITY = 256;

function grown(column: Float64Array, size: number, used: number): Float64Array<ArrayBuffer> {
  const next = new Float64Array(size);
  next.set(column.subarray(0, used));
  return next;
}

/** First index in [from, to) whose timestamp is ≥ t (ascending timestamps; `to` when none is). */
function firstAtOrAfter(timestamps: Float64Array, t: number, from: number, to: number): number {
  let low = from;
  let high = to;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((timestamps[mid] as number) < t) low = mid + 1;
    else high = mid;
  }
  return low;
}
