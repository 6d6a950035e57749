/**
 * Numeric points as a request brings them, for the rows a write appends before compaction encodes them: the
 * timestamps, then the values, as little-endian float64 — 16 bytes a point. Cheap to write and read; compaction
 * turns them into chunks of a few bytes per point. Longs beyond ±(2^53−1), which a double cannot keep, make the
 * points a codec chunk instead, padded to a length of 8 more than a multiple of 16 (the last byte says by how much),
 * which tells the two apart.
 */
import { endianness } from 'node:os';
import { hasBigInt } from '../../types/numbers.js';
import type { StoredValue } from '../../types/value-type.js';
import { decodeChunk, encodeChunk } from './codec.js';
import type { Points } from './merge.js';

const LITTLE = endianness() === 'LE';

export function encodeRaw(timestamps: ArrayLike<number>, values: ArrayLike<StoredValue>): Uint8Array {
  if (hasBigInt(values)) return encodeExact(timestamps, values);
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
  if (isExactRaw(bytes.length)) return decodeExact(bytes);
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

/** Whether raw points of this length are a codec chunk (their longs exact) rather than float64s. */
export function isExactRaw(length: number): boolean {
  return length % 16 === 8;
}

function encodeExact(timestamps: ArrayLike<number>, values: ArrayLike<StoredValue>): Uint8Array {
  const chunk = encodeChunk({ storage: 'long', timestamps: Array.from(timestamps), values: Array.from(values) });
  // 1 to 16 bytes, so that the length is 8 more than a multiple of 16.
  const pad = ((((8 - chunk.length) % 16) + 16) % 16) || 16;
  const out = new Uint8Array(chunk.length + pad);
  out.set(chunk);
  out[out.length - 1] = pad;
  return out;
}

function decodeExact(bytes: Uint8Array): Points {
  const pad = bytes[bytes.length - 1] as number;
  if (pad < 1 || pad > 16 || pad > bytes.length) throw new RangeError('raw points: bad padding');
  const { timestamps, values } = decodeChunk(bytes.subarray(0, bytes.length - pad));
  return { timestamps, values };
}

/** Reverses the bytes of every float64 (big-endian hosts). */
function swap(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 8) bytes.subarray(i, i + 8).reverse();
}
