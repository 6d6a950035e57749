/**
 * Numeric points as a request brings them, for the rows a write appends before compaction encodes them: the
 * timestamps, then the values, as little-endian float64 (longs are safe integers, exact in a double). Cheap to write
 * and read; compaction turns them into chunks of a few bytes per point.
 */
import { endianness } from 'node:os';
import type { Points } from './merge.js';

const LITTLE = endianness() === 'LE';

export function encodeRaw(timestamps: ArrayLike<number>, values: ArrayLike<number>): Uint8Array {
  const n = timestamps.length;
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[i] = timestamps[i] as number;
    out[n + i] = values[i] as number;
  }
  const bytes = new Uint8Array(out.buffer);
  if (!LITTLE) swap(bytes);
  return bytes;
}

export function decodeRaw(bytes: Uint8Array): Points {
  if (bytes.length % 16 !== 0) throw new RangeError('raw points: length is not a multiple of 16');
  if (LITTLE && bytes.byteOffset % 8 === 0) {
    // Read in place (the bytes are not changed afterwards).
    const n = bytes.length / 16;
    return { timestamps: new Float64Array(bytes.buffer, bytes.byteOffset, n), values: new Float64Array(bytes.buffer, bytes.byteOffset + 8 * n, n) };
  }
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  if (!LITTLE) swap(copy);
  const all = new Float64Array(copy.buffer);
  const n = all.length / 2;
  return { timestamps: all.subarray(0, n), values: all.subarray(n) };
}

/** Reverses the bytes of every float64 (big-endian hosts). */
function swap(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 8) bytes.subarray(i, i + 8).reverse();
}
