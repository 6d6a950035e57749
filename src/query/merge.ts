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
 * in the number of series; `onPage` hears every page's size.
 */
export async function* mergeSeries(
  series: readonly SeriesRead[],
  order: 'asc' | 'desc' = 'asc',
  onPage: (points: number) => void = () => {},
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
  }
  // The page under way, reused: a page is good until the next one is asked for.
  const times = new Float64Array(PAGE);
  const values: StoredValue[] = [];
  const ranks = new Int32Array(PAGE);
  const gathered = (k: number) => series[ranks[k] as number] as SeriesRead;
  let n = 0;
  const take = (): MergedPage => {
    const page = { timestamps: times.subarray(0, n), values, seriesAt: gathered };
    n = 0;
    return page;
  };
  while (heap.length > 0) {
    const c = heap[0] as Cursor;
    // The top cursor's points that come strictly before every other cursor's next point go out as a run.
    const bound = nextOf(heap[1], heap[2], sign);
    const pageTimes = c.page.timestamps;
    const from = c.index;
    let to = from + 1;
    while (to < pageTimes.length && sign * ((pageTimes[to] as number) - bound) < 0) to++;
    if (to - from >= LONG_RUN) {
      // A long run goes out as it is, without a copy, after what is gathered.
      if (n > 0) yield take();
      const only = c.series;
      yield { timestamps: columnSlice(pageTimes, from, to), values: columnSlice(c.page.values, from, to), seriesAt: () => only };
    } else {
      to = Math.min(to, from + PAGE - n);
      const pageValues = c.page.values;
      for (let i = from; i < to; i++) {
        times[n] = pageTimes[i] as number;
        values[n] = pageValues[i] as StoredValue;
        ranks[n++] = c.rank;
      }
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
