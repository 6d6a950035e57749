/**
 * OpenTSDB's put body as clients send it, read from its bytes without JSON.parse: an array of objects with `metric`,
 * `timestamp` (digits), `value` (a JSON number) and `tags` (an object of strings), in any order, with any JSON
 * whitespace, names and values of printable ASCII without escapes. The points of one metric, tag set (as written)
 * and type go into one metric of a KairosDB body; a point like the one before it is recognised by comparing bytes
 * (a collector writes a series' points together). Anything else —
 * another key, a string value, an escape, a nested value, an infinite number, broken JSON — answers `undefined`,
 * and the route reads the body as JSON, point by point, with OpenTSDB's messages.
 */
import { latin1, ReadTurns, sameBytes, TextCache } from './bytes.js';

/** The points as the metrics of a KairosDB body, and how many points they hold. */
export interface OpenTsdbBody {
  readonly metrics: Record<string, unknown>[];
  readonly points: number;
}

interface Group {
  readonly metric: Record<string, unknown>;
  readonly datapoints: [number, number][];
}

/**
 * The point being read: where its metric (quotes included) and tags object are, its numbers, which members it had,
 * and whether its metric and tags are, byte for byte, the previous point's (read then without a scan).
 */
interface Point {
  metricFrom: number;
  metricTo: number;
  tagsFrom: number;
  tagsTo: number;
  timestamp: number;
  value: number;
  seen: number;
  repeated: number;
}

const METRIC = 1;
const TIMESTAMP = 2;
const VALUE = 4;
const TAGS = 8;

/** What a body that uses more than `maxNames` different tag names (and member names) gives: see json-names.ts. */
export const TOO_MANY_NAMES = 'too many names';

/**
 * The body's points grouped into metrics; undefined when it is not in the form read here; TOO_MANY_NAMES when its
 * tag names and the four member names are more than `maxNames` (counted as new tag sets are read, so a body of
 * 700,000 different tag names is refused after the first `maxNames`, not read whole: ~1 s).
 */
export async function openTsdbBytes(bytes: Buffer, known: TagTexts = new TagTexts(), maxNames = Infinity): Promise<OpenTsdbBody | undefined | typeof TOO_MANY_NAMES> {
  const turns = new ReadTurns();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let i = space(bytes, 0);
  if (bytes[i] !== 91) return undefined;
  i = space(bytes, i + 1);
  const metrics: Record<string, unknown>[] = [];
  const groups = new Map<string, Group>();
  const point: Point = { metricFrom: 0, metricTo: 0, tagsFrom: 0, tagsTo: 0, timestamp: 0, value: 0, seen: 0, repeated: 0 };
  let previous: Group | undefined;
  let previousType = '';
  let points = 0;
  // The tag names of the tag sets read here (those `known` already gave were counted when first read, in a body that
  // passed), beside metric, timestamp, value and tags.
  const names = new Set<string>(['metric', 'timestamp', 'value', 'tags']);
  if (bytes[i] === 93) return space(bytes, i + 1) === n ? { metrics, points } : undefined;
  for (;;) {
    i = readPoint(bytes, view, i, point);
    if (i < 0) return undefined;
    const type = Number.isInteger(point.value) ? 'long' : 'double';
    let group = previous;
    if (!(group && type === previousType && point.repeated === (METRIC | TAGS))) {
      const name = latin1(bytes, point.metricFrom + 1, point.metricTo - 1);
      const tagsText = latin1(bytes, point.tagsFrom, point.tagsTo);
      const key = `${type}\u0000${name}\u0000${tagsText}`;
      group = groups.get(key);
      if (!group) {
        let tags = known.get(tagsText);
        if (!tags) {
          tags = tagsOf(bytes, point.tagsFrom, point.tagsTo);
          if (!tags) return undefined;
          for (const tag in tags) names.add(tag);
          if (names.size > maxNames) return TOO_MANY_NAMES;
          known.set(tagsText, tags);
        }
        const datapoints: [number, number][] = [];
        const metric = { name, tags, type, datapoints };
        groups.set(key, (group = { metric, datapoints }));
        metrics.push(metric);
      }
      previous = group;
      previousType = type;
    }
    group.datapoints.push([point.timestamp > 0xffff_ffff ? point.timestamp : point.timestamp * 1000, point.value]);
    // A body of 16 MiB takes ~35 ms to read (2.4 ms for 1.1 MB): the event loop gets turns.
    if (++points % 256 === 0 && turns.due) await turns.take();
    i = space(bytes, i);
    if (bytes[i] === 44) {
      i = space(bytes, i + 1);
      continue;
    }
    if (bytes[i] !== 93) return undefined;
    return space(bytes, i + 1) === n ? { metrics, points } : undefined;
  }
}

/** Reads one point object at `i` into `point` (which still holds the previous point's); where it ends, or -1. */
function readPoint(bytes: Buffer, view: DataView, i: number, point: Point): number {
  if (bytes[i] !== 123) return -1;
  point.seen = 0;
  point.repeated = 0;
  i = space(bytes, i + 1);
  for (;;) {
    const key = member(bytes, view, i);
    if (key === 0 || point.seen & key) return -1;
    point.seen |= key;
    i = space(bytes, i + (key === METRIC ? 8 : key === TIMESTAMP ? 11 : key === VALUE ? 7 : 6));
    if (bytes[i] !== 58) return -1;
    i = space(bytes, i + 1);
    if (key === METRIC || key === TAGS) {
      const from = key === METRIC ? point.metricFrom : point.tagsFrom;
      const length = (key === METRIC ? point.metricTo : point.tagsTo) - from;
      let end: number;
      if (length > 0 && i + length <= bytes.length && sameBytes(view, from, i, length)) {
        end = i + length;
        point.repeated |= key;
      } else {
        end = key === METRIC ? simpleString(bytes, i) : tagsEnd(bytes, i);
        if (end < 0 || (key === METRIC && end - i < 3)) return -1;
      }
      if (key === METRIC) {
        point.metricFrom = i;
        point.metricTo = end;
      } else {
        point.tagsFrom = i;
        point.tagsTo = end;
      }
      i = end;
    } else {
      i = number(bytes, i, point, key === TIMESTAMP);
      if (i < 0) return -1;
    }
    i = space(bytes, i);
    if (bytes[i] === 44) {
      i = space(bytes, i + 1);
      continue;
    }
    if (bytes[i] !== 125 || point.seen !== 15) return -1;
    return i + 1;
  }
}

/** Which member the quoted name at `i` is (its bit), or 0: compared four bytes at a time. */
function member(bytes: Buffer, view: DataView, i: number): number {
  if (bytes[i] !== 34 || i + 11 > bytes.length) return 0;
  const head = view.getUint32(i + 1);
  if (head === 0x7461_6773) return bytes[i + 5] === 34 ? TAGS : 0; // tags"
  if (head === 0x7661_6c75) return bytes[i + 5] === 0x65 && bytes[i + 6] === 34 ? VALUE : 0; // valu e"
  if (head === 0x6d65_7472) return view.getUint16(i + 5) === 0x6963 && bytes[i + 7] === 34 ? METRIC : 0; // metr ic"
  if (head === 0x7469_6d65) return view.getUint32(i + 5) === 0x7374_616d && bytes[i + 9] === 0x70 && bytes[i + 10] === 34 ? TIMESTAMP : 0; // time stam p"
  return 0;
}

/** Past a JSON number at `i` (a timestamp: at most 15 digits only), its value in `point`; -1 for anything else. */
function number(bytes: Buffer, i: number, point: Point, timestamp: boolean): number {
  const start = i;
  const negative = bytes[i] === 45;
  if (negative) {
    if (timestamp) return -1;
    i++;
  }
  let int = 0;
  let digits = 0;
  for (let c = bytes[i] as number; c >= 48 && c <= 57; c = bytes[++i] as number) {
    int = int * 10 + (c - 48);
    digits++;
  }
  if (digits === 0 || (digits > 1 && bytes[i - digits] === 48) || (timestamp && digits > 15)) return -1;
  // Up to 15 digits the value is what was summed; else Number() reads the text as JSON.parse does.
  let plain = digits <= 15;
  if (bytes[i] === 46) {
    if (timestamp) return -1;
    plain = false;
    let fraction = 0;
    for (let c = bytes[++i] as number; c >= 48 && c <= 57; c = bytes[++i] as number) fraction++;
    if (fraction === 0) return -1;
  }
  if (bytes[i] === 101 || bytes[i] === 69) {
    if (timestamp) return -1;
    plain = false;
    i++;
    if (bytes[i] === 43 || bytes[i] === 45) i++;
    let exponent = 0;
    for (let c = bytes[i] as number; c >= 48 && c <= 57; c = bytes[++i] as number) exponent++;
    if (exponent === 0) return -1;
  }
  const value = plain ? (negative ? -int : int) : Number(latin1(bytes, start, i));
  if (!Number.isFinite(value)) return -1;
  if (timestamp) point.timestamp = value;
  else point.value = value;
  return i;
}

/** Past a string of printable ASCII without escapes at `i` (its closing quote included), or -1 (also at the body's end). */
function simpleString(bytes: Buffer, i: number): number {
  if (bytes[i] !== 34) return -1;
  for (let c = bytes[++i]; c !== 34; c = bytes[++i]) if (c === undefined || c < 32 || c > 126 || c === 92) return -1;
  return i + 1;
}

/** Past a tags object of simple strings at `i`, or -1 (an empty one too: the route says why). */
function tagsEnd(bytes: Buffer, i: number): number {
  if (bytes[i] !== 123) return -1;
  i = space(bytes, i + 1);
  for (;;) {
    let end = simpleString(bytes, i);
    if (end < 0) return -1;
    i = space(bytes, end);
    if (bytes[i] !== 58) return -1;
    end = simpleString(bytes, space(bytes, i + 1));
    if (end < 0) return -1;
    i = space(bytes, end);
    if (bytes[i] === 125) return i + 1;
    if (bytes[i] !== 44) return -1;
    i = space(bytes, i + 1);
  }
}

/** The tag sets a route has read, by their JSON text, kept across bodies (frozen: shared by every body with the text). */
export class TagTexts extends TextCache<Readonly<Record<string, string>>> {}

/** The tags object of a tags text already read by `tagsEnd`, or undefined for a name given twice or `__proto__`. */
function tagsOf(bytes: Buffer, from: number, to: number): Readonly<Record<string, string>> | undefined {
  const tags: Record<string, string> = {};
  let i = space(bytes, from + 1);
  while (i < to - 1) {
    const nameEnd = simpleString(bytes, i);
    const name = latin1(bytes, i + 1, nameEnd - 1);
    i = space(bytes, space(bytes, nameEnd) + 1);
    const valueEnd = simpleString(bytes, i);
    if (Object.hasOwn(tags, name) || name === '__proto__') return undefined;
    tags[name] = latin1(bytes, i + 1, valueEnd - 1);
    i = space(bytes, space(bytes, valueEnd) + 1);
  }
  return Object.freeze(tags);
}

/** Past JSON whitespace at `i`. */
function space(bytes: Buffer, i: number): number {
  for (let c = bytes[i]; c === 32 || c === 10 || c === 13 || c === 9; c = bytes[++i]);
  return i;
}

