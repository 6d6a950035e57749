/**
 * A request's points as one `recent` row (a batch): the series' parts one after another in `data`, and a directory
 * saying where each series' part is. One insert per request, however many series it carries.
 */
import { endianness } from 'node:os';
import type { StorageKind, StoredValue } from '../../types/value-type.js';
import { hasBigInt } from '../../types/numbers.js';
import { encodeRecent } from './chunk-rows.js';

/** One series' part of a batch. */
export interface BatchEntry {
  readonly seriesId: number;
  readonly first: number;
  readonly last: number;
  readonly count: number;
  /** When its points expire (ms), 0 never. */
  readonly expires: number;
  /** Byte offset and length of its part in the batch's data. */
  readonly offset: number;
  readonly length: number;
}

const FIELDS = 7;
/** Whether this host stores float64s little-endian, as batches keep them (else they are swapped). */
export const LITTLE = endianness() === 'LE';

export function writeDirectory(entries: readonly BatchEntry[]): Uint8Array {
  const out = new Float64Array(entries.length * FIELDS);
  entries.forEach((e, i) => out.set([e.seriesId, e.first, e.last, e.count, e.expires, e.offset, e.length], i * FIELDS));
  const bytes = new Uint8Array(out.buffer);
  if (!LITTLE) swap(bytes);
  return bytes;
}

/** A directory's fields in place: entry i's series id at [7i], then first, last, count, expires, offset, length. */
export function directoryFields(dir: Uint8Array): Float64Array {
  if (dir.length % (FIELDS * 8) !== 0) throw new RangeError('batch directory: bad length');
  if (LITTLE && dir.byteOffset % 8 === 0) return new Float64Array(dir.buffer, dir.byteOffset, dir.length / 8);
  const copy = Uint8Array.from(dir);
  if (!LITTLE) swap(copy);
  return new Float64Array(copy.buffer);
}

export { FIELDS as DIRECTORY_FIELDS };

export function readDirectory(dir: Uint8Array): BatchEntry[] {
  if (dir.length % (FIELDS * 8) !== 0) throw new RangeError('batch directory: bad length');
  const copy = new Uint8Array(dir.length);
  copy.set(dir);
  if (!LITTLE) swap(copy);
  const f = new Float64Array(copy.buffer);
  const entries: BatchEntry[] = [];
  for (let i = 0; i < f.length; i += FIELDS) {
    entries.push({ seriesId: f[i] as number, first: f[i + 1] as number, last: f[i + 2] as number, count: f[i + 3] as number, expires: f[i + 4] as number, offset: f[i + 5] as number, length: f[i + 6] as number });
  }
  return entries;
}


/** A series' points for a batch: numbers as raw float64, text and bytes as a codec chunk. */
export interface PartPoints {
  readonly seriesId: number;
  readonly storage: StorageKind;
  readonly timestamps: readonly number[];
  readonly values: readonly StoredValue[];
  /** ms, 0 never. */
  readonly expires: number;
}

/**
 * Parts laid end to end, each at a multiple of 8 bytes, with their directory: numbers are written straight into
 * the batch (no buffer per series), which is most of what a write of many small series costs.
 */
export function packBatch(parts: readonly PartPoints[]): { dir: Uint8Array; data: Uint8Array } {
  // Numbers inline, unless a long is beyond ±(2^53−1): such a part is encoded exactly (raw.ts).
  const encoded = parts.map((p) => (isNumeric(p.storage) && LITTLE && !(p.storage === 'long' && hasBigInt(p.values)) ? undefined : encodeRecent(p.storage, p.timestamps, p.values)));
  let size = 0;
  for (let k = 0; k < parts.length; k++) size += align(encoded[k]?.length ?? 16 * (parts[k] as PartPoints).timestamps.length);
  const data = new Uint8Array(size);
  const f64 = new Float64Array(data.buffer);
  const dir = new Float64Array(parts.length * FIELDS);
  let offset = 0;
  for (let k = 0; k < parts.length; k++) {
    const { seriesId, timestamps, values, expires } = parts[k] as PartPoints;
    const n = timestamps.length;
    const bytes = encoded[k];
    let length: number;
    if (bytes) {
      data.set(bytes, offset);
      length = bytes.length;
    } else {
      const at = offset / 8;
      for (let i = 0; i < n; i++) {
        f64[at + i] = timestamps[i] as number;
        f64[at + n + i] = values[i] as number;
      }
      length = 16 * n;
    }
    const d = k * FIELDS;
    dir[d] = seriesId;
    dir[d + 1] = timestamps[0] as number;
    dir[d + 2] = timestamps[n - 1] as number;
    dir[d + 3] = n;
    dir[d + 4] = expires;
    dir[d + 5] = offset;
    dir[d + 6] = length;
    offset += align(length);
  }
  const dirBytes = new Uint8Array(dir.buffer);
  if (!LITTLE) swap(dirBytes);
  return { dir: dirBytes, data };
}

const align = (n: number) => Math.ceil(n / 8) * 8;
const isNumeric = (storage: StorageKind) => storage === 'long' || storage === 'double';

/** Which entries of a batch compaction has moved (1 per moved entry), from `recent_taken` (null: none). */
export function takenOf(taken: Uint8Array | null, entries: number): Uint8Array {
  const out = new Uint8Array(entries);
  if (taken) out.set(taken.subarray(0, entries));
  return out;
}

function swap(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 8) bytes.subarray(i, i + 8).reverse();
}
