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
import { SourceMerge, type Points } from './merge.js';
import { difference, Reader, sum, Writer } from './varint.js';

/** A column of numbers to encode: an array, or a Float64Array (or a view of one). */
export type Numbers = readonly number[] | Float64Array;

export interface Chunk {
  readonly storage: StorageKind;
  readonly timestamps: Numbers;
  readonly values: readonly StoredValue[] | Float64Array;
  /** Per point, when it expires (ms since epoch, 0 never); absent when no point expires. */
  readonly expires?: Numbers | undefined;
}

/** A decoded chunk: numbers in Float64Arrays when every one is a safe integer step (the usual case). */
export interface DecodedChunk {
  readonly storage: StorageKind;
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<StoredValue>;
  readonly expires?: ArrayLike<number> | undefined;
}

const VERSION = 2;
const KINDS: readonly StorageKind[] = ['long', 'double', 'string', 'bytes'];

/**
 * A chunk from points in any order: sorted by time, the later of two points at one timestamp kept. `expires` (ms
 * since epoch, 0 never) is one for all, or one per point.
 */
export function chunkOf(storage: StorageKind, timestamps: readonly number[], values: readonly StoredValue[], expires: number | readonly number[] = 0): Chunk {
  const each = typeof expires === 'number' ? (expires > 0 ? new Array<number>(timestamps.length).fill(expires) : undefined) : expires.some((e) => e !== 0) ? expires : undefined;
  let ordered = true;
  for (let i = 1; i < timestamps.length && ordered; i++) ordered = (timestamps[i] as number) > (timestamps[i - 1] as number);
  if (ordered) return { storage, timestamps: [...timestamps], values: [...values], expires: each && [...each] };
  const last = new Map<number, number>();
  timestamps.forEach((t, i) => last.set(t, i));
  const kept = [...last.values()].sort((a, b) => (timestamps[a] as number) - (timestamps[b] as number));
  return { storage, timestamps: kept.map((i) => timestamps[i] as number), values: kept.map((i) => values[i] as StoredValue), expires: each && kept.map((i) => each[i] as number) };
}

/** The points of a decoded chunk outside [start, end], with their expiry (a range delete's remainder). */
export function pointsOutside(points: Points, start: number, end: number): { timestamps: number[]; values: StoredValue[]; expires: number[] | undefined } {
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

/**
 * Both chunks' points in time order; at a timestamp in both, `newer`'s value and expiry (the store's merge, of two
 * sources, keeping expired points). Storage is `newer`'s.
 */
export function mergeChunks(older: DecodedChunk, newer: DecodedChunk): Chunk {
  const sources = [older, newer].map((points, seq) => ({ seq, first: -Infinity, last: Infinity, load: () => points }));
  const { timestamps, values, expires } = new SourceMerge(sources, { start: -Infinity, end: Infinity, now: 0, desc: false, keepExpired: true }).rest();
  return { storage: newer.storage, timestamps, values, expires: older.expires || newer.expires ? expires : undefined };
}

export function encodeChunk(chunk: Chunk): Uint8Array {
  // A few bytes a point is usual for numbers (timestamps 1–2, values 1–9); strings and bytes grow it.
  const out = new Writer(24 + 6 * chunk.timestamps.length);
  out.byte(VERSION);
  out.byte(KINDS.indexOf(chunk.storage));
  out.unsigned(chunk.timestamps.length);
  writeExpiry(out, chunk.expires, chunk.timestamps.length);
  writeTimestamps(out, chunk.timestamps);
  if (chunk.storage === 'long') writeLongs(out, chunk.values);
  else if (chunk.storage === 'double') writeDoubles(out, chunk.values as Numbers);
  else if (chunk.storage === 'string') for (const v of chunk.values) writeBytes(out, TEXT.encode(v as string));
  else for (const v of chunk.values) writeBytes(out, v as Uint8Array);
  return out.done();
}

export function decodeChunk(bytes: Uint8Array): DecodedChunk {
  const input = new Reader(bytes);
  const version = input.byte();
  if (version !== VERSION) throw new RangeError(`chunk: version ${version} is not ${VERSION}`);
  const storage = KINDS[input.byte()];
  if (!storage) throw new RangeError('chunk: unknown storage kind');
  const count = Number(input.unsigned());
  if (count > bytes.length) throw new RangeError('chunk: more points than bytes');
  const expires = readExpiry(input, count);
  // Timestamps and numbers in one buffer: one allocation a chunk.
  const numeric = storage === 'long' || storage === 'double';
  const buffer = new ArrayBuffer((numeric ? 16 : 8) * count);
  const timestamps = readTimestamps(input, new Float64Array(buffer, 0, count));
  let values: ArrayLike<StoredValue>;
  if (storage === 'long') values = readLongs(input, new Float64Array(buffer, 8 * count, count));
  else if (storage === 'double') values = readDoubles(input, new Float64Array(buffer, 8 * count, count));
  else if (storage === 'string') values = Array.from({ length: count }, () => TEXT_DECODER.decode(readBytes(input)));
  else values = Array.from({ length: count }, () => readBytes(input).slice());
  if (input.offset !== bytes.length) throw new RangeError('chunk: trailing bytes');
  return { storage, timestamps, values, expires };
}

/** Runs of equal expiry: their number (0 when no point expires), then per run its length and its expiry. */
function writeExpiry(out: Writer, expires: Numbers | undefined, count: number): void {
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

function writeTimestamps(out: Writer, timestamps: Numbers): void {
  let previous = 0;
  let delta: number | bigint = 0;
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i] as number;
    if (i === 0) out.signed(t);
    else {
      const d = difference(t, previous);
      out.signed(i === 1 ? d : difference(d, delta));
      delta = d;
    }
    previous = t;
  }
}

/**
 * Reads `out.length` zig-zag varints as running sums — of the values (depth 1: deltas; each sum divided by `divisor`
 * as it is stored) or of the deltas too (depth 2: delta-of-delta) — with Number arithmetic. False, with the input
 * untouched, when the chunk ends early or a sum may leave the safe integers (the exact path decodes those).
 *
 * No sum is checked on its own: every |varint| is at most its zig-zag form z, and the z after the first add up to at
 * most `mass` (127 for each one-byte varint, the others counted as they are), so each running sum of depth 1 is
 * within ±(|first| + mass), and at depth 2 each delta within ±mass and each running sum within ±(|first| + count ·
 * mass) — proven safe once, after the loop, before anything is kept.
 */
function readSums(input: Reader, out: Float64Array, depth: 1 | 2, divisor = 1): boolean {
  const { bytes } = input;
  const end = bytes.length;
  const count = out.length;
  let pos = input.offset;
  /** |first varint|, and the sum of the multi-byte varints' z after it. */
  let first = 0;
  let wide = 0;
  let previous = 0;
  let delta = 0;
  for (let i = 0; i < count; i++) {
    if (pos >= end) return false;
    let b = bytes[pos++] as number;
    let n: number;
    if (b < 0x80) n = (b >>> 1) ^ -(b & 1);
    else {
      let z = b & 0x7f;
      let scale = 0x80;
      do {
        if (pos >= end || scale > 2 ** 42) return false;
        b = bytes[pos++] as number;
        z += (b & 0x7f) * scale;
        scale *= 0x80;
      } while (b >= 0x80);
      n = z < 2 ** 31 ? (z >>> 1) ^ -(z & 1) : z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      if (i > 0) wide += z;
    }
    if (i === 0) {
      first = Math.abs(n);
      previous = n;
    } else if (depth === 1) previous += n;
    else previous += delta += n;
    out[i] = depth === 1 ? previous / divisor : previous;
  }
  const mass = wide + 127 * count;
  if ((depth === 1 ? first + mass : first + count * mass) > MAX_EXACT) return false;
  input.offset = pos;
  return true;
}

/** Below 2^53 with room for the rounding of the bound's own arithmetic. */
const MAX_EXACT = 2 ** 52;

/** Timestamps into `fast`, or into an array when the exact path is needed. */
function readTimestamps(input: Reader, fast: Float64Array): ArrayLike<number> {
  if (readSums(input, fast, 2)) return fast;
  const count = fast.length;
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

/** Longs as deltas; a long beyond ±(2^53−1) is a BigInt, its delta written exactly. */
function writeLongs(out: Writer, values: readonly StoredValue[] | Float64Array): void {
  let previous: number | bigint = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number | bigint;
    out.signed(difference(v, previous));
    previous = v;
  }
}

/** Longs into `fast`, or, when a sum may leave the safe integers, into an array with BigInts where they do. */
function readLongs(input: Reader, fast: Float64Array): ArrayLike<number | bigint> {
  if (readSums(input, fast, 1)) return fast;
  const count = fast.length;
  const out = new Array<number | bigint>(count);
  let previous: number | bigint = 0;
  for (let i = 0; i < count; i++) out[i] = previous = sum(previous, input.signed());
  return out;
}

const BITS = new DataView(new ArrayBuffer(8));

/** Most decimal places tried before falling back to XOR. */
const MAX_SCALE = 6;

/**
 * Doubles that are all decimals with at most 6 places (as most gauges are) are kept as scaled longs — mode byte k,
 * then the longs v·10^k, each proven to divide back to exactly v — else mode 0xff and the XOR encoding.
 */
function writeDoubles(out: Writer, values: Numbers): void {
  const scale = decimalScale(values);
  out.byte(scale ?? 0xff);
  if (scale === undefined) return writeXor(out, values);
  const factor = 10 ** scale;
  const scaled = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) scaled[i] = Math.round((values[i] as number) * factor);
  writeLongs(out, scaled);
}

function decimalScale(values: Numbers): number | undefined {
  // The places the values need, found in one pass (a value needing more raises it), then proven for all.
  let k = 0;
  for (let i = 0; i < values.length && k <= MAX_SCALE; i++) while (k <= MAX_SCALE && !fitsScale(values[i] as number, k)) k++;
  if (k > MAX_SCALE) return undefined;
  if (allFit(values, k)) return k;
  // Rounding made a value fit at fewer places than at more: the smallest scale that fits every value.
  for (let j = 0; j <= MAX_SCALE; j++) if (allFit(values, j)) return j;
  return undefined;
}

function allFit(values: Numbers, k: number): boolean {
  for (let i = 0; i < values.length; i++) if (!fitsScale(values[i] as number, k)) return false;
  return true;
}

function fitsScale(v: number, k: number): boolean {
  const factor = 10 ** k;
  const m = Math.round(v * factor);
  return Number.isSafeInteger(m) && m / factor === v && !Object.is(v, -0);
}

function readDoubles(input: Reader, out: Float64Array): ArrayLike<number> {
  const mode = input.byte();
  if (mode === 0xff) return readXor(input, out);
  if (mode > MAX_SCALE) throw new RangeError('chunk: bad double mode');
  const factor = 10 ** mode;
  if (readSums(input, out, 1, factor)) return out;
  const scaled = readLongs(input, out);
  for (let i = 0; i < out.length; i++) out[i] = (scaled[i] as number) / factor;
  return out;
}

function writeXor(out: Writer, values: Numbers): void {
  let hi = 0;
  let lo = 0;
  const xor = new Uint8Array(8);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
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

function readXor(input: Reader, out: Float64Array): Float64Array {
  const count = out.length;
  const { bytes } = input;
  const end = bytes.length;
  let pos = input.offset;
  // The value's bits, big-endian as written, XORed in place byte by byte.
  const bits = new Uint8Array(8);
  const view = new DataView(bits.buffer);
  for (let i = 0; i < count; i++) {
    if (pos >= end) throw new RangeError('chunk: truncated');
    const control = bytes[pos++] as number;
    if (control !== 0) {
      const lead = control >> 4;
      const length = control & 0x0f;
      if (length === 0 || lead + length > 8) throw new RangeError('chunk: bad XOR control byte');
      if (pos + length > end) throw new RangeError('chunk: truncated');
      for (let k = 0; k < length; k++) bits[lead + k] = (bits[lead + k] as number) ^ (bytes[pos + k] as number);
      pos += length;
    }
    out[i] = view.getFloat64(0);
  }
  input.offset = pos;
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
