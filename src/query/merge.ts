import { columnSlice } from '../store-api/columns.js';
import type { PointPage, SeriesRead } from '../store-api/contract.js';
import type { StoredValue } from '../types/value-type.js';

/**
 * A run of merged points, in the read's order; `seriesAt(k)` is the series point k came from. The page holds
 * `timestamps.length` points (`values` may be longer) and is good until the next page is asked for: its arrays are reused.
 */
export interface MergedPage {
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<StoredValue>;
  seriesAt(k: number): SeriesRead;
}

/** Points gathered into one merged page when several series interleave. */
const PAGE = 4096;
/** A run of one series this long is passed on as it is (a view of a typed array) rather than copied. */
const LONG_RUN = 256;

interface Cursor {
  /** Position among the series: breaks ties between equal timestamps, so the merge order does not depend on the store. */
  rank: number;
  series: SeriesRead;
  pages: AsyncIterator<PointPage>;
  page: PointPage;
  index: number;
}

/**
 * Merges the points of several series (each read in the same order) into one stream in that order, a page at a
 * time (a single series' pages pass through as they are). A heap of cursors keeps the cost per point logarithmic
 * in the number of series; `onPage` hears every page's size; `pace` is awaited now and then while the series are opened (a turn for the event loop).
 */
export async function* mergeSeries(
  series: readonly SeriesRead[],
  order: 'asc' | 'desc' = 'asc',
  onPage: (points: number) => void = () => {},
  pace: () => Promise<void> | undefined = () => undefined,
): AsyncGenerator<MergedPage> {
  if (series.length === 1) {
    const only = series[0] as SeriesRead;
    const seriesAt = () => only;
    for await (const page of only.points()) {
      if (page.timestamps.length === 0) continue;
      onPage(page.timestamps.length);
      yield { timestamps: page.timestamps, values: page.values, seriesAt };
    }
    return;
  }
  const sign = order === 'desc' ? -1 : 1;
  const before = (a: Cursor, b: Cursor) => {
    const d = sign * ((a.page.timestamps[a.index] as number) - (b.page.timestamps[b.index] as number));
    return d < 0 || (d === 0 && a.rank < b.rank);
  };
  const heap: Cursor[] = [];
  for (let rank = 0; rank < series.length; rank++) {
    const s = series[rank] as SeriesRead;
    const cursor: Cursor = { rank, series: s, pages: s.points()[Symbol.asyncIterator](), page: { timestamps: [], values: [] }, index: 0 };
    if (await refill(cursor, onPage)) push(heap, cursor, before);
    // Opening 10,000 series took ~140 ms in one stretch: the caller's pace may give the event loop turns meanwhile.
    if ((rank & 63) === 63) await pace();
  }
  // The page under way, reused: a page is good until the next one is asked for. Runs of numbers in Float64Arrays
  // are gathered into `numbers` (typed all through, a fast copy); a page holds either those or any values in `values`.
  const times = new Float64Array(PAGE);
  const numbers = new Float64Array(PAGE);
  const values: StoredValue[] = [];
  let typed = false;
  const ranks = new Int32Array(PAGE);
  const gathered = (k: number) => series[ranks[k] as number] as SeriesRead;
  let n = 0;
  const take = (): MergedPage => {
    const page = { timestamps: times.subarray(0, n), values: typed ? numbers.subarray(0, n) : values, seriesAt: gathered };
    n = 0;
    return page;
  };
  while (heap.length > 0) {
    const c = heap[0] as Cursor;
    // The top cursor's points that come strictly before every other cursor's next point go out as a run.
    const bound = nextOf(heap[1], heap[2], sign);
    const pageTimes = c.page.timestamps;
    const from = c.index;
    let to = runEnd(pageTimes, from + 1, bound, sign);
    if (to - from >= LONG_RUN) {
      // A long run goes out as it is, without a copy, after what is gathered.
      if (n > 0) yield take();
      const only = c.series;
      yield { timestamps: columnSlice(pageTimes, from, to), values: columnSlice(c.page.values, from, to), seriesAt: () => only };
    } else {
      const pageValues = c.page.values;
      const copies = pageTimes instanceof Float64Array && pageValues instanceof Float64Array;
      if (n > 0 && typed && !copies) yield take();
      if (n === 0) typed = copies;
      to = Math.min(to, from + PAGE - n);
      n = typed
        ? gatherNumbers(pageTimes as Float64Array, pageValues as Float64Array, from, to, times, numbers, ranks, n, c.rank)
        : gather(pageTimes, pageValues, from, to, times, values, ranks, n, c.rank);
    }
    c.index = to;
    if (c.index < c.page.timestamps.length) siftDown(heap, 0, before);
    else {
      // A cursor's next page may wait for the store: what is gathered goes out first.
      if (n > 0) yield take();
      if (await refill(c, onPage)) siftDown(heap, 0, before);
      else {
        const last = heap.pop() as Cursor;
        if (heap.length > 0) {
          heap[0] = last;
          siftDown(heap, 0, before);
        }
      }
    }
    if (n === PAGE) yield take();
  }
  if (n > 0) yield take();
}

/**
 * Copies points `from` to `to` of a page of numbers in Float64Arrays to the page under way from `n` on; returns the
 * new `n`. A function of its own, so the copy runs on locals (a generator's variables live in its context) and its
 * arrays are always typed ones.
 */
function gatherNumbers(fromTimes: Float64Array, fromNumbers: Float64Array, from: number, to: number, times: Float64Array, numbers: Float64Array, ranks: Int32Array, n: number, rank: number): number {
  for (let i = from; i < to; i++) {
    times[n] = fromTimes[i] as number;
    numbers[n] = fromNumbers[i] as number;
    ranks[n++] = rank;
  }
  return n;
}

/** As `gatherNumbers`, for any page. */
function gather(fromTimes: ArrayLike<number>, fromValues: ArrayLike<StoredValue>, from: number, to: number, times: Float64Array, values: StoredValue[], ranks: Int32Array, n: number, rank: number): number {
  for (let i = from; i < to; i++) {
    times[n] = fromTimes[i] as number;
    values[n] = fromValues[i] as StoredValue;
    ranks[n++] = rank;
  }
  return n;
}

/**
 * The first index from `from` on whose timestamp is not before `bound` in the direction of travel (the page's
 * length when none is): galloping, then a binary search — a run costs the log of its length, not its length.
 */
function runEnd(times: ArrayLike<number>, from: number, bound: number, sign: number): number {
  const length = times.length;
  let low = from;
  let high = from;
  for (let step = 1; high < length && sign * ((times[high] as number) - bound) < 0; step *= 2) {
    low = high + 1;
    high += step;
  }
  high = Math.min(high, length);
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sign * ((times[mid] as number) - bound) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The earlier (in the direction of travel) of two cursors' next timestamps; ±Infinity without either. */
function nextOf(a: Cursor | undefined, b: Cursor | undefined, sign: number): number {
  const ta = a ? (a.page.timestamps[a.index] as number) : sign * Infinity;
  const tb = b ? (b.page.timestamps[b.index] as number) : sign * Infinity;
  return sign * ta < sign * tb ? ta : tb;
}

async function refill(cursor: Cursor, onPage: (points: number) => void): Promise<boolean> {
  for (;;) {
    const next = await cursor.pages.next();
    if (next.done) return false;
    if (next.value.timestamps.length > 0) {
      onPage(next.value.timestamps.length);
      cursor.page = next.value;
      cursor.index = 0;
      return true;
    }
  }
}

type Before = (a: Cursor, b: Cursor) => boolean;

function push(heap: Cursor[], cursor: Cursor, before: Before): void {
  heap.push(cursor);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i] as Cursor, heap[parent] as Cursor)) break;
    [heap[i], heap[parent]] = [heap[parent] as Cursor, heap[i] as Cursor];
    i = parent;
  }
}

function siftDown(heap: Cursor[], i: number, before: Before): void {
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let best = i;
    if (left < heap.length && before(heap[left] as Cursor, heap[best] as Cursor)) best = left;
    if (right < heap.length && before(heap[right] as Cursor, heap[best] as Cursor)) best = right;
    if (best === i) return;
    [heap[i], heap[best]] = [heap[best] as Cursor, heap[i] as Cursor];
    i = best;
  }
}
