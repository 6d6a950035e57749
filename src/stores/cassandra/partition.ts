/**
 * One partition of layout 3 — a series' chunks of one type in one bucket — read, merged, cut by a range delete and
 * compacted. Each operation reads the partition's chunk rows, works on them in memory (the chunk codec and the
 * merge SQLite uses) and writes rows back by key, so instances doing the same work at once write the same rows.
 */
import type { PointPage } from '../../store-api/contract.js';
import type { StorageKind, StoredValue } from '../../types/value-type.js';
import { decodeChunk, pointsOutside, type Chunk } from '../chunk/codec.js';
import { SourceMerge, type Points } from '../chunk/merge.js';
import { chunkColumns, chunkRow, COMPACTED_WRITER_BYTES, compactedWriter, compareKeys, sameKey, sourcesOf, toMillis, type ChunkKey, type ChunkRow } from './chunks.js';
import type { Row } from './options.js';
import type { Queries } from './queries.js';
import { VALUE_COLUMN } from './queries.js';
import { fromDriverBytes } from '../../store-api/bytes.js';

/** The partition key and type of a series' chunks. */
export interface PartitionKey {
  readonly metric: string;
  readonly id: Buffer;
  readonly bucket: number;
  readonly type: string;
  readonly storage: StorageKind;
}

/** What a partition needs of the store: its statements, and running them (paged reads, writes). */
export interface PartitionIo {
  readonly q: Queries;
  all(query: string, params: unknown[]): Promise<Row[]>;
  run(query: string, params: unknown[]): Promise<void>;
  /**
   * Runs a write that every replica must acknowledge (`compactionConsistency`, ALL by default). A merge's output goes
   * this way before its inputs are deleted: see `writePieces`.
   */
  runMergeOutput(query: string, params: unknown[]): Promise<void>;
  /** Whether a layout-2 `data_points` table may still hold points (a keyspace not yet migrated). */
  readonly legacy: boolean;
  /** The cell TTL of a chunk of points expiring at these times (ms, 0 never): the latest, with the store's grace. */
  cellTtl(expires: ArrayLike<number> | undefined, now: number): number;
}

/** Points of a compacted chunk at most (a day at 1 Hz in six): reads of part of a bucket decode a piece of it. */
export const PIECE_POINTS = 16_384;
/** Points a merged page holds at most. */
const PAGE_POINTS = 8192;

const keyParams = (p: PartitionKey) => [p.metric, p.id, p.bucket];

/** The partition's chunk rows (every page), with their TTL when asked. */
export async function chunkRows(io: PartitionIo, p: PartitionKey, withTtl = false): Promise<ChunkRow[]> {
  const rows = await io.all(withTtl ? io.q.selectChunksTtl : io.q.selectChunks, [...keyParams(p), p.type]);
  return rows.map(chunkRow);
}

/** Layout 2's points of the partition in a range, ascending, with expiries (empty once migrated). */
export async function legacyPoints(io: PartitionIo, p: PartitionKey, start: number, end: number, now: number): Promise<Points | undefined> {
  if (!io.legacy) return undefined;
  const rows = await io.all(io.q.selectPointsTtl[p.storage], [...keyParams(p), start, end]);
  const column = VALUE_COLUMN[p.storage];
  const timestamps: number[] = [];
  const values: StoredValue[] = [];
  const expires: number[] = [];
  for (const row of rows) {
    if (row.type !== p.type) continue;
    timestamps.push(toMillis(row.ts));
    values.push(fromDriver(row[column], p.storage));
    expires.push(row.ttl == null ? 0 : now + Number(row.ttl) * 1000);
  }
  return timestamps.length > 0 ? { timestamps, values, expires } : undefined;
}

/** The partition's points in a range as pages, merged in write order; expired points left out. */
export function* mergedPages(rows: readonly ChunkRow[], legacy: Points | undefined, range: { start: number; end: number; desc: boolean; now: number; expiry: boolean }): Generator<PointPage> {
  const merge = new SourceMerge(sourcesOf(rows, legacy), range);
  for (;;) {
    const page = merge.next(PAGE_POINTS, range.expiry);
    if (page.timestamps.length === 0) return;
    yield range.expiry ? { timestamps: page.timestamps, values: page.values, expires: page.expires ?? [] } : { timestamps: page.timestamps, values: page.values };
  }
}

/**
 * Removes the points in [start, end] from the partition: a chunk entirely inside is deleted, one partly inside is
 * rewritten under its own key without them (its remaining points keep their expiry); layout 2's rows are deleted.
 */
export async function deleteRange(io: PartitionIo, p: PartitionKey, start: number, end: number, now: number): Promise<void> {
  const rows = await chunkRows(io, p, true);
  await Promise.all(
    rows
      .filter((row) => row.last >= start && row.first <= end)
      .map(async (row) => {
        if (row.first >= start && row.last <= end) return io.run(io.q.deleteChunk, [...keyParams(p), p.type, row.seq, row.writer]);
        const outside = pointsOutside(decodeChunk(row.data), start, end);
        const kept: Chunk = { storage: p.storage, ...outside };
        return writeChunk(io, p, row, kept, row.ttl ?? io.cellTtl(kept.expires, now));
      }),
  );
  if (io.legacy) await io.run(io.q.deleteRange, [...keyParams(p), start, end]);
}

/**
 * Merges the partition's chunks written from `from` on (all when absent) into pieces of at most PIECE_POINTS points,
 * under keys that follow from what was merged (the last input's seq, a compaction writer per expiry class and piece),
 * then deletes the inputs. Taking a tail of the write order keeps overwrites right: every chunk outside it is older
 * than all of it. Only a merge of the whole partition drops expired points (a partial one keeps them: an expired
 * point still hides an older one at its timestamp). Returns the number of chunks merged (0: nothing to do).
 */
export async function compactPartition(io: PartitionIo, p: PartitionKey, options: { from?: ChunkKey; now: number; bucketWidthMs: number; minChunks: number }): Promise<number> {
  const { from, now } = options;
  const rows = (from ? (await io.all(io.q.selectChunksFrom, [...keyParams(p), p.type, from.seq, from.writer])).map(chunkRow) : await chunkRows(io, p, true)).sort(compareKeys);
  if (rows.length < options.minChunks || rows.length < 2) return 0;
  const last = rows.at(-1) as ChunkRow;
  // The pieces of one merge and nothing since: merged already.
  if (rows.every((row) => row.seq === last.seq && row.writer.length === COMPACTED_WRITER_BYTES)) return 0;
  // Layout 2's points are older than every chunk: an expired chunk point may still hide one.
  const keepExpired = from !== undefined || io.legacy;
  const merge = new SourceMerge(sourcesOf(rows), { start: -Infinity, end: Infinity, now, desc: false, keepExpired });
  const written = await writePieces(io, p, last.seq, merge.rest(), options);
  await Promise.all(rows.filter((row) => !written.some((key) => sameKey(key, row))).map((row) => io.run(io.q.deleteChunk, [...keyParams(p), p.type, row.seq, row.writer])));
  return rows.length;
}

/** Points in time order, with their expiry (ms since epoch, 0 never). */
export interface PointColumns {
  timestamps: number[];
  values: StoredValue[];
  expires: number[];
}

/**
 * Writes points as chunks under `seq`: grouped by expiry class (a bucket width of expiry each, so that no cell
 * outlives its points by more), each class in pieces of at most PIECE_POINTS points. Returns the keys written.
 *
 * Every piece is acknowledged by every replica (consistency ALL by default) before it returns, because its callers
 * then delete the points' other copies. At a quorum a replica may lack the piece (a mutation it dropped while
 * overloaded) and still take the deletes; with Cassandra's default periodic commit-log sync a killed node replays
 * nothing written since its last sync (up to 10 s: its replay stops at the first section without a sync marker), so
 * a quorum killed at once leaves that replica alone: the points gone, long after they were acknowledged. A point lost
 * on the 3-node test cluster (test/cluster/faults.test.ts, two nodes killed during a merge; this is how it could be lost) led here. With
 * the piece on every replica first, each replica's log holds it ahead of any delete, whatever crashes. A replica down
 * or slow fails the write: the inputs stay, and a later merge or sweep takes them.
 */
export async function writePieces(io: PartitionIo, p: PartitionKey, seq: number, points: PointColumns, options: { now: number; bucketWidthMs: number }): Promise<ChunkKey[]> {
  const classes = new Map<number, number[]>();
  points.expires.forEach((expires, i) => {
    const cls = expires === 0 ? 0 : 1 + Math.floor(expires / options.bucketWidthMs);
    const members = classes.get(cls);
    if (members) members.push(i);
    else classes.set(cls, [i]);
  });
  const written: ChunkKey[] = [];
  for (const [cls, members] of [...classes].sort((a, b) => a[0] - b[0])) {
    for (let at = 0, piece = 0; at < members.length; at += PIECE_POINTS, piece++) {
      const part = members.slice(at, at + PIECE_POINTS);
      const expires = part.map((i) => points.expires[i] as number);
      const chunk: Chunk = { storage: p.storage, timestamps: part.map((i) => points.timestamps[i] as number), values: part.map((i) => points.values[i] as StoredValue), expires: cls === 0 ? undefined : expires };
      const key = { seq, writer: compactedWriter(cls, piece) };
      await writeChunk(io, p, key, chunk, io.cellTtl(chunk.expires, options.now), true);
      written.push(key);
    }
  }
  return written;
}

async function writeChunk(io: PartitionIo, p: PartitionKey, key: ChunkKey, chunk: Chunk, ttl: number, mergeOutput = false): Promise<void> {
  if (chunk.timestamps.length === 0) return io.run(io.q.deleteChunk, [...keyParams(p), p.type, key.seq, key.writer]);
  const params = [...keyParams(p), p.type, key.seq, key.writer, ...chunkColumns(chunk), ttl];
  await (mergeOutput ? io.runMergeOutput(io.q.insertChunk, params) : io.run(io.q.insertChunk, params));
}

function fromDriver(value: unknown, storage: StorageKind): StoredValue {
  if (storage === 'bytes') return fromDriverBytes(value);
  if (storage === 'string') return value as string;
  if (storage === 'long' && typeof value === 'object' && value !== null) return (value as { toNumber(): number }).toNumber();
  return Number(value);
}
