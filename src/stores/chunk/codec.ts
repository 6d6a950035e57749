/**
 * A series' points as one compact chunk (no I/O): timestamps as zig-zag varints of delta-of-delta; longs as
 * zig-zag varints of deltas; doubles that are short decimals as scaled longs (as VictoriaMetrics does), other doubles
 * as the XOR of each value's bits with the previous one's (Gorilla, VLDB 2015), byte-aligned — a control byte with
 * the leading-zero bytes and the length, then the meaningful bytes, 0 for an unchanged value; strings and bytes
 * length-prefixed. The storage kind is an attribute of the chunk; expiry (ms since epoch, 0 never) is kept as runs of
 * points that expire together (one run for the points of one request), so merged chunks keep each point's own TTL.
 * Timestamps in a chunk are strictly ascending (`chunkOf` sorts and keeps the later of equal ones).
 */
import type { StorageKind, StoredValue } from '../../types/value-type.js';
import { difference, Reader, sum, Writer } from './varint.js';

export interface Chunk {
  readonly storage: StorageKind;
  readonly timestamps: readonly number[];
  readonly values: readonly StoredValue[];
  /** Per point, when it expires (ms since epoch, 0 never); absent when no point expires. */
  readonly expires?: readonly number[] | undefined;
}

const VERSION = 2;
const KINDS: readonly StorageKind[] = ['long', 'double', 'string', 'bytes'];

/** A chunk from points in any order: sorted by time, the later of two points at one timestamp kept; `expires` applies to all (0 never). */
export function chunkOf(storage: StorageKind, timestamps: readonly number[], values: readonly StoredValue[], expires = 0): Chunk {
  const every = expires > 0 ? new Array<number>(timestamps.length).fill(expires) : undefined;
  let ordered = true;
  for (let i = 1; i < timestamps.length && ordered; i++) ordered = (timestamps[i] as number) > (timestamps[i - 1] as number);
  if (ordered) return { storage, timestamps: [...timestamps], values: [...values], expires: every };
  const last = new Map<number, number>();
  timestamps.forEach((t, i) => last.set(t, i));
  const kept = [...last.values()].sort((a, b) => (timestamps[a] as number) - (timestamps[b] as number));
  return { storage, timestamps: kept.map((i) => timestamps[i] as number), values: kept.map((i) => values[i] as StoredValue), expires: every?.slice(0, kept.length) };
}

/** Both chunks' points in time order; at a timestamp in both, `newer`'s value and expiry. Storage is `newer`'s. */
export function mergeChunks(older: Chunk, newer: Chunk): Chunk {
  const timestamps: number[] = [];
  const values: StoredValue[] = [];
  const expires: number[] = [];
  let i = 0;
  let j = 0;
  while (i < older.timestamps.length || j < newer.timestamps.length) {
    const a = older.timestamps[i];
    const b = newer.timestamps[j];
    if (b === undefined || (a !== undefined && a < b)) {
      timestamps.push(a as number);
      expires.push(older.expires?.[i] ?? 0);
      values.push(older.values[i++] as StoredValue);
    } else {
      if (a === b) i++;
      timestamps.push(b);
      expires.push(newer.expires?.[j] ?? 0);
      values.push(newer.values[j++] as StoredValue);
    }
  }
  return { storage: newer.storage, timestamps, values, expires: older.expires || newer.expires ? expires : undefined };
}

export function encodeChunk(chunk: Chunk): Uint8Array {
  const out = new Writer();
  out.byte(VERSION);
  out.byte(KINDS.indexOf(chunk.storage));
  out.unsigned(chunk.timestamps.length);
  writeExpiry(out, chunk.expires, chunk.timestamps.length);
  writeTimestamps(out, chunk.timestamps);
  if (chunk.storage === 'long') writeLongs(out, chunk.values as readonly number[]);
  else if (chunk.storage === 'double') writeDoubles(out, chunk.values as readonly number[]);
  else if (chunk.storage === 'string') for (const v of chunk.values) writeBytes(out, TEXT.encode(v as string));
  else for (const v of chunk.values) writeBytes(out, v as Uint8Array);
  return out.done();
}

export function decodeChunk(bytes: Uint8Array): Chunk {
  const input = new Reader(bytes);
  const version = input.byte();
  if (version !== VERSION) throw new RangeError(`chunk: version ${version} is not ${VERSION}`);
  const storage = KINDS[input.byte()];
  if (!storage) throw new RangeError('chunk: unknown storage kind');
  const count = Number(input.unsigned());
  if (count > bytes.length) throw new RangeError('chunk: more points than bytes');
  const expires = readExpiry(input, count);
  const timestamps = readTimestamps(input, count);
  let values: StoredValue[];
  if (storage === 'long') values = readLongs(input, count);
  else if (storage === 'double') values = readDoubles(input, count);
  else if (storage === 'string') values = Array.from({ length: count }, () => TEXT_DECODER.decode(readBytes(input)));
  else values = Array.from({ length: count }, () => readBytes(input).slice());
  if (input.offset !== bytes.length) throw new RangeError('chunk: trailing bytes');
  return { storage, timestamps, values, expires };
}

/** Runs of equal expiry: their number (0 when no point expires), then per run its length and its expiry. */
function writeExpiry(out: Writer, expires: readonly number[] | undefined, count: number): void {
  if (!expires || expires.every((e) => e === 0)) return out.unsigned(0);
  const runs: number[] = [];
  for (let i = 0; i < count; ) {
    const at = expires[i] as number;
    let end = i + 1;
    while (end < count && expires[end] === at) end++;
    runs.push(end - i, at);
    i = end;
  }
  out.unsigned(runs.length / 2);
  for (const n of runs) out.unsigned(n);
}

function readExpiry(input: Reader, count: number): number[] | undefined {
  const runs = Number(input.unsigned());
  if (runs === 0) return undefined;
  if (runs > count) throw new RangeError('chunk: more expiry runs than points');
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    const length = Number(input.unsigned());
    const at = safe(input.unsigned());
    if (length === 0 || out.length + length > count) throw new RangeError('chunk: bad expiry run');
    for (let k = 0; k < length; k++) out.push(at);
  }
  if (out.length !== count) throw new RangeError('chunk: expiry runs do not cover the points');
  return out;
}

const TEXT = new TextEncoder();
const TEXT_DECODER = new TextDecoder('utf-8', { fatal: true });

function writeTimestamps(out: Writer, timestamps: readonly number[]): void {
  let previous = 0;
  let delta: number | bigint = 0;
  timestamps.forEach((t, i) => {
    if (i === 0) out.signed(t);
    else {
      const d = difference(t, previous);
      out.signed(i === 1 ? d : difference(d, delta));
      delta = d;
    }
    previous = t;
  });
}

/**
 * Decodes timestamps with Number arithmetic and the varints read in place (the common case: every value and delta
 * a safe integer), or returns undefined with the input untouched, for the exact path to decode.
 */
function readTimestampsFast(input: Reader, count: number): number[] | undefined {
  const { bytes } = input;
  const end = bytes.length;
  let pos = input.offset;
  const out = new Array<number>(count);
  let previous = 0;
  let delta = 0;
  for (let i = 0; i < count; i++) {
    if (pos >= end) return undefined;
    let b = bytes[pos++] as number;
    let z = b & 0x7f;
    let scale = 0x80;
    while (b >= 0x80) {
      if (pos >= end || scale > 2 ** 42) return undefined;
      b = bytes[pos++] as number;
      z += (b & 0x7f) * scale;
      scale *= 0x80;
    }
    const n = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    if (i === 0) previous = n;
    else {
      delta = i === 1 ? n : delta + n;
      previous += delta;
    }
    if (!Number.isSafeInteger(delta) || !Number.isSafeInteger(previous)) return undefined;
    out[i] = previous;
  }
  input.offset = pos;
  return out;
}

function readTimestamps(input: Reader, count: number): number[] {
  const fast = readTimestampsFast(input, count);
  if (fast) return fast;
  const out = new Array<number>(count);
  let previous: number | bigint = 0;
  let delta: number | bigint = 0;
  for (let i = 0; i < count; i++) {
    const n = input.signed();
    if (i === 0) previous = n;
    else {
      delta = i === 1 ? n : sum(delta, n);
      previous = sum(previous, delta);
    }
    out[i] = safe(previous);
  }
  return out;
}

function writeLongs(out: Writer, values: readonly number[]): void {
  let previous = 0;
  for (const v of values) {
    out.signed(difference(v, previous));
    previous = v;
  }
}

function readLongs(input: Reader, count: number): number[] {
  const start = input.offset;
  const fast = new Array<number>(count);
  let sumSoFar = 0;
  let i = 0;
  for (; i < count; i++) {
    const n = input.signed();
    if (typeof n !== 'number') break;
    sumSoFar += n;
    if (!Number.isSafeInteger(sumSoFar)) break;
    fast[i] = sumSoFar;
  }
  if (i === count) return fast;
  input.offset = start;
  const out = new Array<number>(count);
  let previous: number | bigint = 0;
  for (let i = 0; i < count; i++) out[i] = safe((previous = sum(previous, input.signed())));
  return out;
}

const BITS = new DataView(new ArrayBuffer(8));

/** Most decimal places tried before falling back to XOR. */
const MAX_SCALE = 6;

/**
 * Doubles that are all decimals with at most 6 places (as most gauges are) are kept as scaled longs — mode byte k,
 * then the longs v·10^k, each proven to divide back to exactly v — else mode 0xff and the XOR encoding.
 */
function writeDoubles(out: Writer, values: readonly number[]): void {
  const scale = decimalScale(values);
  out.byte(scale ?? 0xff);
  if (scale === undefined) return writeXor(out, values);
  const factor = 10 ** scale;
  writeLongs(out, values.map((v) => Math.round(v * factor)));
}

function decimalScale(values: readonly number[]): number | undefined {
  for (let k = 0; k <= MAX_SCALE; k++) {
    const factor = 10 ** k;
    const fits = values.every((v) => {
      const m = Math.round(v * factor);
      return Number.isSafeInteger(m) && m / factor === v && !Object.is(v, -0);
    });
    if (fits) return k;
  }
  return undefined;
}

function readDoubles(input: Reader, count: number): number[] {
  const mode = input.byte();
  if (mode === 0xff) return readXor(input, count);
  if (mode > MAX_SCALE) throw new RangeError('chunk: bad double mode');
  const factor = 10 ** mode;
  return readLongs(input, count).map((m) => m / factor);
}

function writeXor(out: Writer, values: readonly number[]): void {
  let hi = 0;
  let lo = 0;
  const xor = new Uint8Array(8);
  for (const v of values) {
    BITS.setFloat64(0, v);
    const vh = BITS.getUint32(0);
    const vl = BITS.getUint32(4);
    const xh = (vh ^ hi) >>> 0;
    const xl = (vl ^ lo) >>> 0;
    hi = vh;
    lo = vl;
    if (xh === 0 && xl === 0) {
      out.byte(0);
      continue;
    }
    new DataView(xor.buffer).setUint32(0, xh);
    new DataView(xor.buffer).setUint32(4, xl);
    let lead = 0;
    while (xor[lead] === 0) lead++;
    let end = 8;
    while (xor[end - 1] === 0) end--;
    out.byte((lead << 4) | (end - lead));
    out.bytes(xor.subarray(lead, end));
  }
}

function readXor(input: Reader, count: number): number[] {
  const out = new Array<number>(count);
  const bits = new Uint8Array(8);
  const view = new DataView(bits.buffer);
  for (let i = 0; i < count; i++) {
    const control = input.byte();
    if (control !== 0) {
      const lead = control >> 4;
      const length = control & 0x0f;
      if (length === 0 || lead + length > 8) throw new RangeError('chunk: bad XOR control byte');
      const meaningful = input.take(length);
      for (let k = 0; k < length; k++) bits[lead + k] = (bits[lead + k] as number) ^ (meaningful[k] as number);
    }
    out[i] = view.getFloat64(0);
  }
  return out;
}

function writeBytes(out: Writer, data: Uint8Array): void {
  out.unsigned(data.length);
  out.bytes(data);
}

function readBytes(input: Reader): Uint8Array {
  return input.take(Number(input.unsigned()));
}

function safe(n: number | bigint): number {
  if (typeof n === 'bigint' || !Number.isSafeInteger(n)) throw new RangeError('chunk: value outside the safe integer range');
  return n;
}
