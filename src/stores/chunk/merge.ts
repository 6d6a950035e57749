/**
 * The points of a series kept in several overlapping sources (chunks, recent rows) read as one ordered run — no I/O:
 * a source is decoded only when the run reaches its time range, so a long series is held a few chunks at a time.
 */
import type { StoredValue } from '../../types/value-type.js';
import { lowerBound } from '../../store-api/lower-bound.js';

/** Decoded points of one source: timestamps strictly ascending. */
export interface Points {
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<StoredValue>;
  /** Per point, when it expires (ms since epoch, 0 never); absent when none expires. */
  readonly expires?: ArrayLike<number> | undefined;
}

/** One stored piece of a series: its time bounds, its write order and how to decode it. */
export interface Source {
  readonly first: number;
  readonly last: number;
  /** Write order: at a timestamp in several sources, the highest `seq` holds the point. */
  readonly seq: number;
  load(): Points;
}

export interface MergeRange {
  /** Inclusive bounds, ms. */
  readonly start: number;
  readonly end: number;
  /** Points that expire at or before `now` are left out, unless `keepExpired`. */
  readonly now: number;
  readonly desc: boolean;
  /**
   * Keeps expired points (with their expiry): a merge of only some of a series' sources must, since an expired point
   * still hides an older point at its timestamp that a source left out of the merge holds.
   */
  readonly keepExpired?: boolean;
}

/** A page of merged points; `expires` when asked for (ms since epoch, 0 never). */
export interface MergedPage {
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<StoredValue>;
  readonly expires: readonly number[] | undefined;
}

interface Cursor {
  readonly points: Points;
  readonly seq: number;
  /** Index of the next point; moves up (ascending) or down (descending). */
  i: number;
  /** Index past the last point in range, in the direction of travel. */
  readonly stop: number;
}

/**
 * Merges sources of one series in time order. At a timestamp held by several sources the one written last wins,
 * even when its point has expired (the later write replaced the earlier point, as an overwrite does).
 */
export class SourceMerge {
  readonly #pending: Source[];
  readonly #active: Cursor[] = [];
  readonly #range: MergeRange;
  readonly #step: 1 | -1;

  constructor(sources: readonly Source[], range: MergeRange) {
    this.#range = range;
    this.#step = range.desc ? -1 : 1;
    const inRange = sources.filter((s) => s.last >= range.start && s.first <= range.end);
    // Consumed from the end: the source the run reaches first is last.
    this.#pending = range.desc ? inRange.sort((a, b) => a.last - b.last) : inRange.sort((a, b) => b.first - a.first);
  }

  /** Up to `limit` points in order (a stretch of one source may come shorter); an empty page only at the end. */
  next(limit: number, withExpiry = false): MergedPage {
    if (!withExpiry) {
      const view = this.#view(limit);
      if (view) return view;
    }
    const timestamps: number[] = [];
    const values: StoredValue[] = [];
    const expiry: number[] | undefined = withExpiry ? [] : undefined;
    const now = this.#range.keepExpired ? -Infinity : this.#range.now;
    const step = this.#step;
    const active = this.#active;
    while (timestamps.length < limit) {
      if (active.length === 0 && !this.#activateNext()) break;
      if (active.length === 1 && this.#copyRun(active[0] as Cursor, limit, now, timestamps, values, expiry)) continue;
      let at = this.#head();
      while (this.#reaches(at)) {
        this.#activateNext();
        at = this.#head();
      }
      let winner: Cursor | undefined;
      let w = 0;
      for (let k = active.length - 1; k >= 0; k--) {
        const c = active[k] as Cursor;
        if (c.points.timestamps[c.i] !== at) continue;
        if (!winner || c.seq > winner.seq) {
          winner = c;
          w = c.i;
        }
        c.i += step;
        if (c.i === c.stop) active.splice(k, 1);
      }
      if (!winner) continue; // every active source ended before `at` (cannot happen while sources are in range)
      const expires = winner.points.expires?.[w] ?? 0;
      if (expires !== 0 && expires <= now) continue;
      timestamps.push(at);
      values.push(winner.points.values[w] as StoredValue);
      expiry?.push(expires);
    }
    return { timestamps, values, expires: expiry };
  }

  /** Every point still to come, with its expiry (0 never), in arrays (a merge that rewrites what it reads). */
  rest(): { timestamps: number[]; values: StoredValue[]; expires: number[] } {
    const out = { timestamps: [] as number[], values: [] as StoredValue[], expires: [] as number[] };
    for (let page = this.next(8192, true); page.timestamps.length > 0; page = this.next(8192, true)) {
      for (let i = 0; i < page.timestamps.length; i++) {
        out.timestamps.push(page.timestamps[i] as number);
        out.values.push(page.values[i] as StoredValue);
        out.expires.push(page.expires?.[i] ?? 0);
      }
    }
    return out;
  }

  /**
   * A page that is a stretch of one decoded source as it is (no copy): one source active, ascending, no expiry, its
   * numbers in Float64Arrays, up to where the next pending source begins. Undefined when that does not hold.
   */
  #view(limit: number): MergedPage | undefined {
    if (this.#active.length === 0 && !this.#activateNext()) return undefined;
    const c = this.#active[0];
    if (this.#active.length !== 1 || !c || this.#range.desc || c.points.expires) return undefined;
    const { timestamps, values } = c.points;
    if (!(timestamps instanceof Float64Array) || !(values instanceof Float64Array)) return undefined;
    const next = this.#pending.at(-1);
    const end = Math.min(c.stop, c.i + limit, next ? lowerBound(timestamps, next.first) : Infinity);
    if (end <= c.i) return undefined;
    const page = { timestamps: timestamps.subarray(c.i, end), values: values.subarray(c.i, end), expires: undefined };
    c.i = end;
    if (end === c.stop) this.#active.length = 0;
    return page;
  }

  /**
   * With one source active, copies its points up to where the next pending source begins (the common case: sources
   * that do not overlap); false when the next point may be held by a pending source too.
   */
  #copyRun(c: Cursor, limit: number, now: number, timestamps: number[], values: StoredValue[], expiry: number[] | undefined): boolean {
    const next = this.#pending.at(-1);
    const desc = this.#range.desc;
    const { points, stop } = c;
    const step = this.#step;
    let i = c.i;
    let copied = false;
    while (i !== stop && timestamps.length < limit) {
      const t = points.timestamps[i] as number;
      if (next && (desc ? next.last >= t : next.first <= t)) break;
      const expires = points.expires?.[i] ?? 0;
      if (expires === 0 || expires > now) {
        timestamps.push(t);
        values.push(points.values[i] as StoredValue);
        expiry?.push(expires);
      }
      i += step;
      copied = true;
    }
    c.i = i;
    if (i === stop) this.#active.length = 0;
    return copied;
  }

  /** The next timestamp of the active sources, in the direction of travel. */
  #head(): number {
    let at = this.#range.desc ? -Infinity : Infinity;
    for (const c of this.#active) {
      const t = c.points.timestamps[c.i] as number;
      if (this.#range.desc ? t > at : t < at) at = t;
    }
    return at;
  }

  /** Whether the next pending source starts at or before `at` in the direction of travel. */
  #reaches(at: number): boolean {
    const next = this.#pending.at(-1);
    if (!next) return false;
    return this.#range.desc ? next.last >= at : next.first <= at;
  }

  /** Decodes the next pending source and adds its points in range; false when none is left. */
  #activateNext(): boolean {
    const source = this.#pending.pop();
    if (!source) return false;
    const points = source.load();
    const n = points.timestamps.length;
    const low = lowerBound(points.timestamps, this.#range.start);
    const high = lowerBound(points.timestamps, this.#range.end + 1) - 1;
    if (low > high || n === 0) return true;
    const cursor = this.#range.desc ? { points, seq: source.seq, i: high, stop: low - 1 } : { points, seq: source.seq, i: low, stop: high + 1 };
    this.#active.push(cursor);
    return true;
  }
}
