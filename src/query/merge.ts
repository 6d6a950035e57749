import type { PointPage, SeriesRead } from '../store/contract.js';
import type { StoredValue } from '../types/value-type.js';

/** One point of a merged stream and the series it came from. */
export interface MergedPoint {
  ts: number;
  value: StoredValue;
  series: SeriesRead;
}

interface Cursor {
  series: SeriesRead;
  pages: AsyncIterator<PointPage>;
  page: PointPage;
  index: number;
}

/** Merges the points of several series (each read in the same order) into one stream in that order, page by page. */
export async function* mergeSeries(series: readonly SeriesRead[], order: 'asc' | 'desc' = 'asc'): AsyncGenerator<MergedPoint> {
  const sign = order === 'desc' ? -1 : 1;
  const cursors: Cursor[] = [];
  for (const s of series) {
    const cursor = await open(s);
    if (cursor) cursors.push(cursor);
  }
  while (cursors.length > 0) {
    let best = 0;
    for (let i = 1; i < cursors.length; i++) {
      const c = cursors[i] as Cursor;
      const b = cursors[best] as Cursor;
      if (sign * ((c.page.timestamps[c.index] as number) - (b.page.timestamps[b.index] as number)) < 0) best = i;
    }
    const c = cursors[best] as Cursor;
    yield { ts: c.page.timestamps[c.index] as number, value: c.page.values[c.index] as StoredValue, series: c.series };
    c.index++;
    if (c.index >= c.page.timestamps.length && !(await refill(c))) cursors.splice(best, 1);
  }
}

async function open(series: SeriesRead): Promise<Cursor | undefined> {
  const pages = series.points()[Symbol.asyncIterator]();
  const cursor: Cursor = { series, pages, page: { timestamps: [], values: [] }, index: 0 };
  return (await refill(cursor)) ? cursor : undefined;
}

async function refill(cursor: Cursor): Promise<boolean> {
  for (;;) {
    const next = await cursor.pages.next();
    if (next.done) return false;
    if (next.value.timestamps.length > 0) {
      cursor.page = next.value;
      cursor.index = 0;
      return true;
    }
  }
}
