import type { StorageKind, StoredValue } from '../types/value-type.js';

/**
 * One series' points in columns, sorted by time with unique timestamps: timestamps and numbers in Float64Arrays
 * (no object per point; long values are safe integers, exact in a double), strings and bytes in an array, and expiry
 * in seconds in a Uint32Array that exists only once a point has a TTL. Writes that continue the series append;
 * others merge in one linear pass, the later value winning at a timestamp.
 */
export class SeriesColumns {
  timestamps = new Float64Array(8);
  numbers: Float64Array | undefined;
  others: StoredValue[] | undefined;
  /** Expiry per point in seconds since the epoch (rounded up); 0 never. Absent while no point has a TTL. */
  expires: Uint32Array | undefined;
  length = 0;

  constructor(readonly storage: StorageKind) {
    if (storage === 'long' || storage === 'double') this.numbers = new Float64Array(8);
    else this.others = [];
  }

  /** Adds points (any order; the later of equal timestamps wins), all expiring at `expiresSec` (0 never). */
  add(timestamps: readonly number[], values: readonly StoredValue[], expiresSec: number): void {
    const n = timestamps.length;
    if (n === 0) return;
    for (let i = 1; i < n; i++) {
      if ((timestamps[i] as number) <= (timestamps[i - 1] as number)) return this.add(...sortedRun(timestamps, values), expiresSec);
    }
    if (expiresSec !== 0 && !this.expires) this.expires = new Uint32Array(this.timestamps.length);
    if (this.length === 0 || (timestamps[0] as number) > (this.timestamps[this.length - 1] as number)) {
      this.#reserve(this.length + n);
      for (let i = 0; i < n; i++) this.#set(this.length + i, timestamps[i] as number, values[i] as StoredValue, expiresSec);
      this.length += n;
      return;
    }
    this.#merge(timestamps, values, expiresSec);
  }

  /** Index of the first point at or after `ts`. */
  lowerBound(ts: number): number {
    let low = 0;
    let high = this.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.timestamps[mid] as number) < ts) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  value(i: number): StoredValue {
    return this.numbers ? (this.numbers[i] as number) : (this.others?.[i] as StoredValue);
  }

  /** Whether point i has not expired at `now` (ms); expiry is kept in whole seconds, as Cassandra keeps it. */
  live(i: number, now: number): boolean {
    const e = this.expires?.[i] ?? 0;
    return e === 0 || e * 1000 > now;
  }

  /** Keeps the points `keep` says yes to (deletes, expiry), in place. */
  retain(keep: (i: number) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.length; r++) {
      if (!keep(r)) continue;
      if (w !== r) this.#set(w, this.timestamps[r] as number, this.value(r), this.expires?.[r] ?? 0);
      w++;
    }
    this.length = w;
    if (this.others) this.others.length = w;
  }

  #set(i: number, ts: number, value: StoredValue, expiresSec: number): void {
    this.timestamps[i] = ts;
    if (this.numbers) this.numbers[i] = value as number;
    else (this.others as StoredValue[])[i] = value;
    if (this.expires) this.expires[i] = expiresSec;
  }

  /** Room for `n` points: grows by a quarter (an eighth of slack on average, at most a quarter). */
  #reserve(n: number): void {
    if (n <= this.timestamps.length) return;
    const capacity = Math.max(n, Math.ceil(this.timestamps.length * 1.25));
    this.timestamps = grown(this.timestamps, capacity, this.length);
    if (this.numbers) this.numbers = grown(this.numbers, capacity, this.length);
    if (this.expires) this.expires = grown(this.expires, capacity, this.length);
  }

  /**
   * Merges a sorted run that does not continue the series: only the points from the run's first timestamp on move
   * (requests that arrive a little out of order touch a short tail, not the whole series).
   */
  #merge(timestamps: readonly number[], values: readonly StoredValue[], expiresSec: number): void {
    const from = this.lowerBound(timestamps[0] as number);
    const tail = this.length - from;
    const old = {
      timestamps: this.timestamps.slice(from, this.length),
      numbers: this.numbers?.slice(from, this.length),
      others: this.others?.slice(from, this.length),
      expires: this.expires?.slice(from, this.length),
    };
    this.#reserve(this.length + timestamps.length);
    let i = 0;
    let j = 0;
    let w = from;
    while (i < tail || j < timestamps.length) {
      const a = i < tail ? (old.timestamps[i] as number) : Infinity;
      const b = j < timestamps.length ? (timestamps[j] as number) : Infinity;
      if (a < b) {
        this.#set(w++, a, old.numbers ? (old.numbers[i] as number) : (old.others?.[i] as StoredValue), old.expires?.[i] ?? 0);
        i++;
      } else {
        if (a === b) i++;
        this.#set(w++, b, values[j] as StoredValue, expiresSec);
        j++;
      }
    }
    this.length = w;
    if (this.others) this.others.length = w;
  }
}

/** Points sorted by time, the later of equal timestamps kept. */
function sortedRun(timestamps: readonly number[], values: readonly StoredValue[]): [number[], StoredValue[]] {
  const last = new Map<number, number>();
  timestamps.forEach((t, i) => last.set(t, i));
  const order = [...last.values()].sort((a, b) => (timestamps[a] as number) - (timestamps[b] as number));
  return [order.map((i) => timestamps[i] as number), order.map((i) => values[i] as StoredValue)];
}

function grown<T extends Float64Array | Uint32Array>(array: T, capacity: number, used: number): T {
  const next = new (array.constructor as new (n: number) => T)(capacity);
  next.set(array.subarray(0, used));
  return next;
}
