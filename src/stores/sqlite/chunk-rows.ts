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
  if (storage === 'long' || storage === 'double') return encodeRaw(timestamps, values as readonly number[]);
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
 * Cuts merged pages (ascending) into chunk rows: a new chunk at every window boundary and every
 * {@link MAX_CHUNK_POINTS} points. `emit` receives each row as soon as it is complete.
 */
export class ChunkCutter {
  #timestamps: number[] = [];
  #values: StoredValue[] = [];
  #expires: number[] = [];
  #win = NaN;

  constructor(
    private readonly storage: StorageKind,
    private readonly emit: (row: ChunkRow) => void,
  ) {}

  add(page: MergedPage): void {
    const { timestamps, values, expires } = page;
    for (let i = 0; i < timestamps.length; i++) {
      const t = timestamps[i] as number;
      const win = windowOf(t);
      if (win !== this.#win || this.#timestamps.length === MAX_CHUNK_POINTS) this.flush(win);
      this.#timestamps.push(t);
      this.#values.push(values[i] as StoredValue);
      this.#expires.push(expires?.[i] ?? 0);
    }
  }

  /** Emits the chunk being cut, if any; the next starts in window `win`. */
  flush(win = NaN): void {
    const timestamps = this.#timestamps;
    if (timestamps.length > 0) {
      const expires = this.#expires;
      const never = expires.some((e) => e === 0);
      this.emit({
        win: this.#win,
        first: timestamps[0] as number,
        last: timestamps.at(-1) as number,
        count: timestamps.length,
        expires: never ? null : Math.max(...expires),
        data: encodeChunk({ storage: this.storage, timestamps, values: this.#values, expires: expires.every((e) => e === 0) ? undefined : expires }),
      });
    }
    this.#timestamps = [];
    this.#values = [];
    this.#expires = [];
    this.#win = win;
  }
}
