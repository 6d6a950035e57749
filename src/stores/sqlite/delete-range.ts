import { chunkOf, encodeChunk } from '../chunk/codec.js';
import type { Points } from '../chunk/merge.js';
import type { StoredValue } from '../../types/value-type.js';
import { chunkSource, windowOf } from './chunk-rows.js';
import type { Located, RecentBatches } from './recent.js';
import type { SeriesRow, Statements } from './statements.js';

/**
 * Deletes a series' points in [start, end] from every batch part and chunk that holds some (inside the caller's
 * transaction): a chunk wholly inside goes, others are written again without them. Every source is
 * rewritten, so no older point comes back from under a deleted newer one.
 */
export function deleteRange(sql: Statements, recent: RecentBatches, located: readonly Located[], row: SeriesRow, start: number, end: number): void {
  for (const at of located) {
    if (at.last < start || at.first > end) continue;
    const source = recent.source(row.storage, at);
    if (!source) continue;
    recent.rewrite(row.storage, at, outside(source.load(), start, end));
  }
  for (const c of sql.chunksOf.all(row.id, windowOf(start), windowOf(end), start, end)) {
    if (c.first >= start && c.last <= end) {
      sql.deleteChunk.run(c.id);
      continue;
    }
    const points = chunkSource(c).load();
    const kept = outside(points, start, end);
    const expires = kept.expires;
    const never = !expires || expires.some((e) => e === 0);
    const data = encodeChunk({ ...chunkOf(row.storage, kept.timestamps, kept.values), expires });
    sql.updateChunk.run(kept.timestamps[0], kept.timestamps.at(-1), kept.timestamps.length, never ? null : Math.max(...(expires as number[])), data, c.id);
  }
}

/** The points outside [start, end] (a source partly inside keeps at least one). */
function outside(points: Points, start: number, end: number): { timestamps: number[]; values: StoredValue[]; expires: number[] | undefined } {
  const timestamps: number[] = [];
  const values: StoredValue[] = [];
  const expires: number[] | undefined = points.expires ? [] : undefined;
  for (let i = 0; i < points.timestamps.length; i++) {
    const t = points.timestamps[i] as number;
    if (t >= start && t <= end) continue;
    timestamps.push(t);
    values.push(points.values[i] as StoredValue);
    expires?.push(points.expires?.[i] as number);
  }
  return { timestamps, values, expires };
}
