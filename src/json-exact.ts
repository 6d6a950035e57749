/**
 * Exact integers for JSON text: `JSON.parse` reads every number as a double, so an integer beyond ±(2^53−1) loses its
 * last digits. Only a body with an integer of 16 or more digits takes this path: each such integer token outside strings
 * is rewritten as a string carrying a marker (a random nonce per process, so no client can forge one), parsed
 * natively, and the markers are turned back — into BigInts where a datapoint's value stands, into the Number
 * `JSON.parse` would have made everywhere else (so timestamps, TTLs and queries behave exactly as before).
 */
import { randomBytes } from 'node:crypto';
import { isObject } from './json.js';
import { narrowLong } from './types/numbers.js';

/** A whole integer token of 16 digits or more (not a fraction's or an exponent's digits). */
const LONG_INTEGER = /(?<![\d.eE+-])-?[1-9]\d{15,}(?![\d.eE])/;

/** A string literal (skipped as it is), or a long integer token. */
const TOKENS = new RegExp(`"(?:[^"\\\\]|\\\\[^])*"|${LONG_INTEGER.source}`, 'g');

const MARK = `\u0000${randomBytes(9).toString('base64')}:`;
const MARK_TEXT = JSON.stringify(MARK).slice(1, -1);

/**
 * Whether a body may hold an integer that a double cannot keep exactly (digits inside a string may match too: the
 * exact reading then finds nothing to mark). Looked for a slice at a time, with `turn` between slices (16 MiB: ~55 ms
 * of scanning); the slices overlap by more than a token's start needs.
 */
export async function mayHoldLongIntegers(text: string, turn: () => Promise<unknown> = async () => {}): Promise<boolean> {
  for (let from = 0; from < text.length; from += SCAN_SLICE) {
    if (from > 0) await turn();
    if (LONG_INTEGER.test(text.slice(Math.max(0, from - SCAN_OVERLAP), from + SCAN_SLICE))) return true;
  }
  return false;
}

const SCAN_SLICE = 1 << 20;
const SCAN_OVERLAP = 32;

/**
 * `JSON.parse` with the long integers of datapoint values kept exactly (BigInts beyond ±(2^53−1)); throws what
 * `JSON.parse` throws for text that is not JSON. The marking gives the event loop a turn every ~10 ms of work (a
 * 16 MiB body of longs: ~0.5 s of marking) and one more before the walk that restores the values; the native parse of
 * the marked text is one stretch, as a body's first parse is (a 15.7 MiB body of longs held the loop ≤ 304 ms).
 */
export async function parseExact(text: string, turn: () => Promise<unknown> = async () => {}): Promise<unknown> {
  const tokens = new RegExp(TOKENS);
  const pieces: string[] = [];
  let from = 0;
  let since = performance.now();
  let seen = 0;
  for (let match = tokens.exec(text); match !== null; match = tokens.exec(text)) {
    if ((++seen & 1023) === 0 && performance.now() - since > SLICE_MS) {
      await turn();
      since = performance.now();
    }
    const token = match[0];
    if (token.charCodeAt(0) === 0x22) continue;
    pieces.push(text.slice(from, match.index), `"${MARK_TEXT}`, token, '"');
    from = match.index + token.length;
  }
  if (pieces.length === 0) return JSON.parse(text);
  pieces.push(text.slice(from));
  let parsed: unknown;
  try {
    parsed = JSON.parse(pieces.join(''));
  } catch {
    // The error of the text as it was sent (the marked one's positions and excerpt are not the client's).
    return JSON.parse(text);
  }
  await turn();
  return restore(parsed);
}

/** Work between turns of the event loop while marking, ms. */
const SLICE_MS = 10;

/** A datapoint value: an integer of the marker as a BigInt beyond the safe range, else a Number. */
function exactValue(value: unknown): unknown {
  return isMarked(value) ? narrowLong(BigInt(value.slice(MARK.length))) : value;
}

function isMarked(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(MARK);
}

/** Values of a body's metrics (`value`, each `datapoints` entry's second item) exact; every other marker a Number. */
function restore(body: unknown): unknown {
  const metric = (m: unknown) => {
    if (!isObject(m)) return;
    if (Object.hasOwn(m, 'value')) m.value = exactValue(m.value);
    if (Array.isArray(m.datapoints)) for (const point of m.datapoints) if (Array.isArray(point) && point.length > 1) point[1] = exactValue(point[1]);
  };
  if (Array.isArray(body)) body.forEach(metric);
  else metric(body);
  return numbersElsewhere(body);
}

/** Every marker left as the Number `JSON.parse` would have read (a walk with its own stack: bodies may nest deep). */
function numbersElsewhere(body: unknown): unknown {
  if (isMarked(body)) return Number(body.slice(MARK.length));
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const json = stack.pop();
    if (Array.isArray(json)) {
      for (let i = 0; i < json.length; i++) {
        const item: unknown = json[i];
        if (isMarked(item)) json[i] = Number(item.slice(MARK.length));
        else if (typeof item === 'object' && item !== null) stack.push(item);
      }
    } else if (isObject(json)) {
      for (const key of Object.keys(json)) {
        const item = json[key];
        if (isMarked(item)) json[key] = Number(item.slice(MARK.length));
        else if (typeof item === 'object' && item !== null) stack.push(item);
      }
    }
  }
  return body;
}
