import { chunkOf, encodeChunk, pointsOutside } from '../chunk/codec.js';
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
    recent.rewrite(row.storage, at, pointsOutside(source.load(), start, end));
  }
  for (const c of sql.chunksOf.all(row.id, windowOf(start), windowOf(end), start, end)) {
    if (c.first >= start && c.last <= end) {
      sql.deleteChunk.run(c.id);
      continue;
    }
    const points = chunkSource(c).load();
    const kept = pointsOutside(points, start, end);
    const expires = kept.expires;
    const never = !expires || expires.some((e) => e === 0);
    const data = encodeChunk({ ...chunkOf(row.storage, kept.timestamps, kept.values), expires });
    sql.updateChunk.run(kept.timestamps[0], kept.timestamps.at(-1), kept.timestamps.length, never ? null : Math.max(...(expires as number[])), data, c.id);
  }
}
