/**
 * Layout 3's `chunks` rows: a request's points of one series in one bucket are one compressed cell (the chunk codec
 * SQLite uses), keyed in the partition (metric, series, bucket) by type and write order (`seq`, `writer`). A read
 * merges a partition's chunks; at a timestamp held by several the one written last wins, as an overwrite of a
 * point's row did in layout 2.
 */
import { randomBytes } from 'node:crypto';
import { decodeChunk, encodeChunk, type Chunk } from '../chunk/codec.js';
import type { Points, Source } from '../chunk/merge.js';

/** Where a chunk sits in write order: the writer's clock in µs (strictly rising per store), then its writer id. */
export interface ChunkKey {
  readonly seq: number;
  readonly writer: Buffer;
}

/** A chunk row as read. */
export interface ChunkRow extends ChunkKey {
  readonly first: number;
  readonly last: number;
  readonly data: Uint8Array;
  /** Remaining TTL of the cell in seconds, 0 when it never expires (read only when asked for). */
  readonly ttl?: number;
}

/** Writer ids of the writes of a store: 8 random bytes. Compaction's outputs use 6 (see `compactedWriter`). */
export class WriteOrder {
  readonly writer = randomBytes(8);
  #last = 0;

  /** A key later than every key this store gave before (µs of `now`, or one more than the last). */
  next(now: number): ChunkKey {
    this.#last = Math.max(this.#last + 1, Math.floor(now) * 1000);
    return { seq: this.#last, writer: this.writer };
  }
}

/** Length of a compaction output's writer id (a store's is 8 bytes). */
export const COMPACTED_WRITER_BYTES = 6;

/** The writer of a compaction's output: its expiry class and piece, 6 bytes, never equal to a store's 8-byte writer. */
export function compactedWriter(expiryClass: number, piece: number): Buffer {
  if (!Number.isInteger(expiryClass) || expiryClass < 0 || expiryClass >= 2 ** 32 || piece >= 2 ** 16) throw new RangeError(`chunk key out of range: class ${expiryClass}, piece ${piece}`);
  const writer = Buffer.alloc(COMPACTED_WRITER_BYTES);
  writer.writeUInt32BE(expiryClass, 0);
  writer.writeUInt16BE(piece, 4);
  return writer;
}

/** Write order of two keys: by seq, then by writer bytes (shorter first at equal prefix). */
export function compareKeys(a: ChunkKey, b: ChunkKey): number {
  return a.seq - b.seq || Buffer.compare(a.writer, b.writer);
}

export function sameKey(a: ChunkKey, b: ChunkKey): boolean {
  return compareKeys(a, b) === 0;
}

/** The bound values of a chunk's row after its key: first, last, count, data (a Buffer, as the driver binds blobs). */
export function chunkColumns(chunk: Chunk): [number, number, number, Buffer] {
  const n = chunk.timestamps.length;
  const bytes = encodeChunk(chunk);
  return [chunk.timestamps[0] as number, chunk.timestamps[n - 1] as number, n, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)];
}

/** Seconds until the latest of these expiries (ms); 0 when one never expires (or there are none). */
export function latestTtl(expires: ArrayLike<number> | undefined, now: number): number {
  if (!expires || expires.length === 0) return 0;
  let latest = 0;
  for (let i = 0; i < expires.length; i++) {
    const e = expires[i] as number;
    if (e === 0) return 0;
    if (e > latest) latest = e;
  }
  return Math.max(1, Math.ceil((latest - now) / 1000));
}

/**
 * A partition's chunk rows as merge sources, in write order (`seq` of a source is its rank); `legacy` (points of a
 * layout-2 row table not yet migrated) comes before every chunk.
 */
export function sourcesOf(rows: readonly ChunkRow[], legacy?: Points): Source[] {
  const ordered = [...rows].sort(compareKeys);
  const sources: Source[] = ordered.map((row, rank) => ({ seq: rank, first: row.first, last: row.last, load: () => decodeChunk(row.data) }));
  if (legacy && legacy.timestamps.length > 0) {
    const n = legacy.timestamps.length;
    sources.push({ seq: -1, first: legacy.timestamps[0] as number, last: legacy.timestamps[n - 1] as number, load: () => legacy });
  }
  return sources;
}

/** A chunk row from a driver row of `selectChunks`. */
export function chunkRow(row: Record<string, unknown>): ChunkRow {
  return {
    seq: toNumber(row.seq),
    writer: row.writer as Buffer,
    first: toMillis(row.first),
    last: toMillis(row.last),
    data: row.data as Uint8Array,
    ...(row.ttl !== undefined ? { ttl: row.ttl == null ? 0 : Number(row.ttl) } : {}),
  };
}

export function toMillis(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  return toNumber(value);
}

function toNumber(value: unknown): number {
  if (typeof value === 'object' && value !== null && 'toNumber' in value) return (value as { toNumber(): number }).toNumber();
  return Number(value);
}
