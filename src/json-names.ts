/**
 * Distinct member names of a JSON text, counted from its bytes without parsing it. `JSON.parse` is superlinear in the
 * number of different names a body uses (measured; a body of the same size reusing a few names parses fast): 100,000 names took
 * 70 ms on this project's 2-core machine, 200,000 450–720 ms, 700,000 (10 MiB of tags) 2.3 s — one request holding
 * the host's event loop that long, and the ingest of what it parsed as long again.
 *
 * Two steps, for bodies of NAMES_SCAN_FROM bytes and more (smaller ones cannot hold enough names to matter):
 * 1. Samples: a name near one random place in every SAMPLE_EVERY bytes. A body of points uses a handful of names
 *    over and over; when the samples hold more than VARIED different names, the body is
 * 2. counted whole: every colon found natively, the name before it hashed (1.3 ms for 10,000 single-point metrics,
 *    886 KB, against JSON.parse's 4.7: the reason for step 1, which takes ~0.02 ms there).
 * Names gathered where few samples fall pass unnoticed: on average about VARIED × SAMPLE_EVERY bytes of them (64 KiB,
 * ~7,000 names; JSON.parse ~5 ms). Hashes start from a seed drawn at start and sample places are drawn per body, so a
 * body cannot be crafted to collide or to know where samples fall. A colon inside a string value can make a name of
 * what is not one: more names, never fewer.
 */
import { randomBytes } from 'node:crypto';

/** Bodies smaller than this are not scanned (10,000 names need ~90 KB: `"abc":1,` each). */
export const NAMES_SCAN_FROM = 64 * 1024;
/** One sample in every this many bytes. */
const SAMPLE_EVERY = 1024;
/** Different names among the samples from which a body is counted whole. */
const VARIED = 64;
/** How far from its place a sample looks for a colon, and back from it for the name's start. */
const SAMPLE_REACH = 512;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const SEED = randomBytes(4).readUInt32LE(0);
/** The sampler's state (xorshift32), drawn at start. */
let random = randomBytes(4).readUInt32LE(0) || 1;
/** Slots of the table of names met last. */
const RECENT = 256;

/** Whether the JSON in `bytes` uses more than `limit` distinct member names (false for a body it cannot read: JSON.parse says why). */
export function exceedsNames(bytes: Uint8Array, limit: number): boolean {
  return bytes.length >= NAMES_SCAN_FROM && varied(bytes) && countExceeds(bytes, limit);
}

/** Whether names sampled across the body are more than VARIED different ones. */
function varied(bytes: Buffer | Uint8Array): boolean {
  const names = new Set<number>();
  for (let from = 0; from < bytes.length; from += SAMPLE_EVERY) {
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    const at = from + ((random >>> 0) % SAMPLE_EVERY);
    const window = bytes.subarray(at, at + SAMPLE_REACH);
    const colon = window.indexOf(COLON);
    if (colon < 0) continue;
    names.add(nameBefore(bytes, at + colon, Math.max(0, at + colon - SAMPLE_REACH)));
    if (names.size > VARIED) return true;
  }
  return false;
}

/** Whether the body uses more than `limit` different names, counted whole (step 2 alone). */
export function countExceeds(bytes: Uint8Array, limit: number): boolean {
  const seen = new Set<number>();
  // The last name of each hash slot: a name met again (the usual case) is not looked up in the set.
  const recent = new Int32Array(RECENT).fill(-1);
  for (let colon = bytes.indexOf(COLON); colon >= 0; colon = bytes.indexOf(COLON, colon + 1)) {
    const h = nameBefore(bytes, colon, 0);
    if (h < 0) continue;
    const slot = h & (RECENT - 1);
    if (recent[slot] === h) continue;
    recent[slot] = h;
    seen.add(h);
    if (seen.size > limit) return true;
  }
  return false;
}

/**
 * The hash of the name before the colon at `colon` (a string ending there, whitespace between), -1 when none does;
 * a name reaching back past `reach` hashes from there (a sample's name counts as one of its own). A colon inside a
 * string value right after a quote can read as a name (of what lies between two strings): more names, never fewer.
 */
function nameBefore(bytes: Uint8Array, colon: number, reach: number): number {
  let close = colon - 1;
  while (close >= 0 && (bytes[close] === 0x20 || bytes[close] === 0x0a || bytes[close] === 0x0d || bytes[close] === 0x09)) close--;
  if (bytes[close] !== QUOTE || escaped(bytes, close)) return -1;
  let h = SEED;
  let at = close - 1;
  for (; at >= reach; at--) {
    const c = bytes[at] as number;
    if (c === QUOTE && !escaped(bytes, at)) break;
    h = Math.imul(h ^ c, 0x01000193);
  }
  // No string opens before it: the quote opened a string value holding the colon.
  if (at < 0) return -1;
  // 30 bits: a small integer for V8 (no allocation per name); two of 10,000 names colliding by chance count once.
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

/** Whether the quote at `at` is escaped: an odd number of backslashes before it. */
function escaped(bytes: Uint8Array, at: number): boolean {
  let backslashes = 0;
  while (bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}
