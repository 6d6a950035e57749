/**
 * Influx line protocol (`measurement,tag=v field=1.5,other=2i 1700000000000000000`), read in one pass over the
 * body's bytes: each field becomes a metric `<measurement>.<field>` with the line's tags (KairosDB needs one: a line
 * without tags gets `add=tag`, as KairosDB's telnet does). Floats are doubles; `i` and `u` integers are longs; `t`/`f`
 * booleans are longs 1/0; quoted strings are strings.
 */
import { latin1, ReadTurns, sameBytes, TextCache } from './bytes.js';

/** Timestamp precisions, by the names v1 (`n`, `u`, `ms`, `s`, `m`, `h`) and v2 (`ns`, `us`, `ms`, `s`) use. */
const PRECISION: Record<string, { drop?: number; multiply?: number }> = {
  n: { drop: 6 },
  ns: { drop: 6 },
  u: { drop: 3 },
  us: { drop: 3 },
  ms: {},
  s: { multiply: 1000 },
  m: { multiply: 60_000 },
  h: { multiply: 3_600_000 },
};

/** A precision as digits dropped and a factor (ms). */
interface Scale {
  readonly drop: number;
  readonly multiply: number;
}

/** Whether `precision` is one of the names Influx takes. */
export const isPrecision = (precision: string): boolean => Object.hasOwn(PRECISION, precision);

/** The metrics of a body, each with the number of the line of its first point; or the first line that cannot be read. */
export type InfluxParse = { ok: true; metrics: Record<string, unknown>[]; lines: number[] } | { ok: false; line: number; message: string };


/** Stop characters of `Reader.until`. */
const SPACE = 1;
const COMMA = 2;
const EQUALS = 4;

const BOOLEAN: Record<string, number> = { t: 1, T: 1, true: 1, True: 1, TRUE: 1, f: 0, F: 0, false: 0, False: 0, FALSE: 0 };
const FLOAT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const INTEGER = /^[-+]?\d+i$/;
const UNSIGNED = /^\d+u$/;
const TIMESTAMP = /^-?\d{1,25}$/;

/** A series of a body: its measurement and tags, read once from the first line that has them, and its metrics by field and type. */
interface SeriesText {
  readonly measurement: string;
  readonly tags: Record<string, string>;
  readonly fields: Map<string, unknown[][]>;
  /** The field and type its last point went to, and their points (most lines repeat them: no lookup then). */
  lastField: string;
  lastType: string;
  lastPoints: unknown[][] | undefined;
}

/** A line's fields as read (reused line after line: no arrays made per line). */
interface LineFields {
  count: number;
  readonly keys: string[];
  readonly values: (number | string)[];
  readonly types: string[];
}

const line: LineFields = { count: 0, keys: [], values: [], types: [] };

function addField(fields: LineFields, key: string, value: number | string, type: string): void {
  fields.keys[fields.count] = key;
  fields.values[fields.count] = value;
  fields.types[fields.count++] = type;
}

/**
 * Parses a body of lines (UTF-8 bytes, or text) at once; `now` (ms) is the time of lines without a timestamp. See
 * `InfluxReader`, which reads a body in pieces as it arrives.
 */
export async function parseInflux(body: string | Uint8Array, precision: string, now: number, maxTags = Infinity, known: SeriesTexts = new SeriesTexts(), maxNames = Infinity): Promise<InfluxParse> {
  const reader = new InfluxReader(precision, now, maxTags, known, maxNames);
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return (await reader.read(bytes, true)) ?? reader.parsed();
}

/** A line that cannot be read: its number and why. */
export type InfluxFailure = Extract<InfluxParse, { ok: false }>;

/**
 * Reads a body of lines in pieces, each ending at a newline (the last one: whatever is left), so that a body is read
 * as it arrives. The points of one measurement, tag set, field and type are gathered into one metric (its origin the
 * line of its first point); a tag set written as an earlier line wrote it is read once (and one written as the line
 * before, without a lookup). The common line is read from the bytes; a line with escapes, quotes or unusual numbers
 * is decoded and read as text.
 */
export class InfluxReader {
  readonly #metrics: Record<string, unknown>[] = [];
  readonly #lines: number[] = [];
  readonly #seriesByText = new Map<string, SeriesText | string>();
  // The tag names of the series read here (those `known` gave were counted in the body that brought them): a body of
  // 14,000 lines of 49 new tag names each (686,000) held the event loop 566 ms as the ingest built their objects.
  readonly #names = new Set<string>();
  readonly #scale: Scale;
  readonly #turns = new ReadTurns();
  #number = 0;

  constructor(
    private readonly precision: string,
    private readonly now: number,
    private readonly maxTags = Infinity,
    private readonly known: SeriesTexts = new SeriesTexts(),
    private readonly maxNames = Infinity,
  ) {
    const { drop = 0, multiply = 1 } = PRECISION[precision] ?? {};
    this.#scale = { drop, multiply };
  }

  /** What the pieces read so far hold. */
  parsed(): Extract<InfluxParse, { ok: true }> {
    return { ok: true, metrics: this.#metrics, lines: this.#lines };
  }

  /** Reads the lines of a piece (UTF-8 bytes ending at a newline, unless `last`); the first line that cannot be read. */
  async read(bytes: Buffer, last: boolean): Promise<InfluxFailure | undefined> {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const { now, precision, maxTags, maxNames, known } = this;
    let previous: SeriesText | undefined;
    let previousFrom = 0;
    let previousLength = 0;
    const length = bytes.length;
    for (let start = 0; start < length || (last && start === length); ) {
      let end = bytes.indexOf(10, start);
      if (end === -1) end = length;
      const number = ++this.#number;
      // A body of 16 MiB of lines takes ~45 ms to read (1.6 ms for 616 KB): the event loop gets turns.
      if (number % 1024 === 0 && this.#turns.due) await this.#turns.take();
      let from = start;
      start = end + 1;
      if (end > from && bytes[end - 1] === 13) end--;
      while (from < end && (bytes[from] === 32 || bytes[from] === 9)) from++;
      if (from === end || bytes[from] === 35) continue;
      let series: SeriesText | string | undefined;
      let space = from + previousLength;
      if (previous && space < end && bytes[space] === 32 && sameBytes(view, previousFrom, from, previousLength)) {
        series = previous;
      } else {
        space = seriesEnd(bytes, from, end);
        if (space < 0) return { ok: false, line: number, message: 'no fields (a space and field=value after the measurement and tags)' };
        const key = bytes.toString('utf8', from, space);
        series = this.#seriesByText.get(key);
        if (series === undefined) {
          let read: SeriesHead | string | undefined = known.get(key);
          if (read === undefined) {
            read = seriesOf(key, maxTags);
            if (typeof read !== 'string') {
              for (const tag in read.tags) this.#names.add(tag);
              if (this.#names.size > maxNames) return { ok: false, line: number, message: `more than ${maxNames} different tag names in one body (maxNamesPerBody)` };
              known.set(key, read);
            }
          }
          this.#seriesByText.set(key, (series = typeof read === 'string' ? read : { measurement: read.measurement, tags: read.tags, fields: new Map(), lastField: '', lastType: '', lastPoints: undefined }));
        }
        if (typeof series === 'string') return { ok: false, line: number, message: series };
        previous = series;
        previousFrom = from;
        previousLength = space - from;
      }
      line.count = 0;
      let timestamp: number | string | undefined = simpleFields(bytes, space + 1, end, this.#scale, now, series.lastField);
      if (timestamp === undefined) {
        line.count = 0;
        timestamp = fieldsOf(bytes.toString('utf8', space, end), precision, now);
      }
      if (typeof timestamp === 'string') return { ok: false, line: number, message: timestamp };
      this.#add(series, timestamp, number);
    }
    line.keys.length = line.values.length = line.types.length = line.count = 0;
    return undefined;
  }

  /** The points of the line just read (in `line`) added to their metrics. */
  #add(series: SeriesText, timestamp: number, number: number): void {
    for (let f = 0; f < line.count; f++) {
      const field = line.keys[f] as string;
      const type = line.types[f] as string;
      let datapoints = field === series.lastField && type === series.lastType ? series.lastPoints : undefined;
      if (!datapoints) {
        const id = `${field}\u0000${type}`;
        datapoints = series.fields.get(id);
        if (!datapoints) {
          series.fields.set(id, (datapoints = []));
          this.#metrics.push({ name: `${series.measurement}.${field}`, tags: series.tags, type, datapoints });
          this.#lines.push(number);
        }
        series.lastField = field;
        series.lastType = type;
        series.lastPoints = datapoints;
      }
      datapoints.push([timestamp, line.values[f]]);
    }
  }
}

/** Where a line's measurement and tags end: its first space not escaped by a backslash (-1 when there is none). */
function seriesEnd(bytes: Buffer, from: number, end: number): number {
  for (let at = bytes.indexOf(32, from); at !== -1 && at < end; at = bytes.indexOf(32, at + 1)) {
    let backslashes = 0;
    for (let i = at - 1; i >= from && bytes[i] === 92; i--) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

/** A series' measurement and tags as read from its text (frozen: shared by every body that sends the text again). */
type SeriesHead = Pick<SeriesText, 'measurement' | 'tags'>;

/** The series texts a route has read (their measurement and tags), kept across bodies. */
export class SeriesTexts extends TextCache<SeriesHead> {}

/** The measurement and tags of a line's first part, or why it is not one. */
function seriesOf(text: string, maxTags: number): SeriesHead | string {
  const reader = new Reader(text);
  const measurement = reader.until(SPACE | COMMA, false);
  if (measurement === '') return 'no measurement';
  const tags: Record<string, string> = {};
  let count = 0;
  while (reader.peek() === ',') {
    // Stopped at the limit: a line of a million tags is not read into an object first.
    if (++count > maxTags) return `more than ${maxTags} tags (maxTagsPerSeries)`;
    reader.skip();
    const key = reader.until(EQUALS | COMMA | SPACE, true);
    if (reader.peek() !== '=') return `tag '${key.slice(0, 40)}' has no '='`;
    reader.skip();
    const value = reader.until(SPACE | COMMA, true);
    if (key === '' || value === '') return 'a tag with an empty key or value';
    tags[key] = value;
  }
  if (Object.keys(tags).length === 0) tags.add = 'tag';
  return { measurement, tags: Object.freeze(tags) };
}

/** A line's fields and timestamp as text (from the space after its series), read into `line`; or why they are not. */
function fieldsOf(text: string, precision: string, now: number): number | string {
  const reader = new Reader(text);
  reader.skipSpaces();
  for (;;) {
    const key = reader.until(EQUALS | COMMA | SPACE, true);
    if (reader.peek() !== '=' || key === '') return `field '${key.slice(0, 40)}' has no '=' or no name`;
    reader.skip();
    const value = reader.peek() === '"' ? reader.quoted() : reader.until(SPACE | COMMA, false);
    if (value === undefined) return `field '${key.slice(0, 40)}' has a string without its closing quote`;
    const field = typeof value === 'object' ? ([value.text, 'string'] as const) : fieldValue(value);
    if (typeof field === 'string') return `field '${key.slice(0, 40)}': ${field}`;
    addField(line, key, field[0], field[1]);
    if (reader.peek() !== ',') break;
    reader.skip();
  }
  reader.skipSpaces();
  const time = reader.rest().trim();
  return time === '' ? now : toMillis(time, precision);
}

/**
 * The common line's fields, read in one pass over its bytes: ASCII names without a backslash or quote, numbers of at
 * most 15 digits read as they are scanned (undefined: the line is read as text, which says what is wrong). `known` is
 * the field name the line is likely to have (its series' last one), taken without decoding the name.
 */
function simpleFields(bytes: Buffer, from: number, end: number, { drop, multiply }: Scale, now: number, known: string): number | undefined {
  const fields = line;
  let i = from;
  for (;;) {
    const keyStart = i;
    for (; i < end; i++) {
      const c = bytes[i] as number;
      if (c === 61) break;
      if (c === 44 || c === 32 || c === 92 || c === 34 || c > 127) return undefined;
    }
    if (i === keyStart || i >= end) return undefined;
    const key = i - keyStart === known.length && isAscii(bytes, keyStart, known) ? known : latin1(bytes, keyStart, i);
    i++;
    const valueStart = i;
    const negative = bytes[i] === 45;
    if (negative) i++;
    let int = 0;
    let digits = 0;
    let other = -1;
    for (; i < end; i++) {
      const c = bytes[i] as number;
      if (c >= 48 && c <= 57) {
        int = int * 10 + (c - 48);
        digits++;
      } else if (c === 44 || c === 32) {
        break;
      } else if (c === 92 || c === 34 || c > 127) {
        return undefined;
      } else if (other === -1) {
        other = i;
      } else {
        other = -2;
      }
    }
    if (digits > 0 && digits <= 15 && other === -1) addField(fields, key, negative ? -int : int, 'double');
    else if (digits > 0 && digits <= 15 && other === i - 1 && (bytes[other] === 105 || (bytes[other] === 117 && !negative))) addField(fields, key, negative ? -int : int, 'long');
    else {
      const value = fieldValue(latin1(bytes, valueStart, i));
      if (typeof value === 'string') return undefined;
      addField(fields, key, value[0], value[1]);
    }
    if (i >= end) return now;
    if (bytes[i++] === 32) break;
  }
  const negative = bytes[i] === 45;
  if (negative) i++;
  const digitsStart = i;
  let time = 0;
  for (; i < end; i++) {
    const c = bytes[i] as number;
    if (c < 48 || c > 57) return undefined;
    time = time * 10 + (c - 48);
  }
  const count = i - digitsStart;
  const kept = count - drop;
  if (count === 0 || kept > 15) return undefined;
  if (drop > 0) {
    time = 0;
    for (let k = digitsStart; k < digitsStart + kept; k++) time = time * 10 + ((bytes[k] as number) - 48);
  }
  const ms = time * multiply;
  if (!Number.isSafeInteger(ms)) return undefined;
  return negative && ms !== 0 ? -ms : ms;
}

/** Whether the ASCII bytes from `at` spell `text` (its length checked by the caller). */
function isAscii(bytes: Uint8Array, at: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** An integer timestamp in a precision, as ms (finer digits dropped, toward zero), or why it is not one. */
function toMillis(time: string, precision: string): number | string {
  if (!TIMESTAMP.test(time)) return `timestamp '${time.slice(0, 40)}' is not an integer`;
  const negative = time.startsWith('-');
  const digits = negative ? time.slice(1) : time;
  const { drop = 0, multiply = 1 } = PRECISION[precision] ?? {};
  const kept = drop === 0 ? digits : digits.length > drop ? digits.slice(0, -drop) : '0';
  const ms = Number(kept) * multiply;
  if (!Number.isSafeInteger(ms) || kept.length > 16) return `timestamp '${time.slice(0, 40)}' is out of range`;
  return negative && ms !== 0 ? -ms : ms;
}

/** A field's value and its type, or why it is not one. */
function fieldValue(text: string): [number, string] | string {
  const last = text.charCodeAt(text.length - 1);
  if (last !== 105 && last !== 117 && FLOAT.test(text)) return [Number(text), 'double'];
  if (INTEGER.test(text) || UNSIGNED.test(text)) {
    const value = Number(text.slice(0, -1));
    return Number.isSafeInteger(value) ? [value, 'long'] : `integer ${text.slice(0, 40)} is outside ±(2^53−1), which JavaScript keeps exactly`;
  }
  if (Object.hasOwn(BOOLEAN, text)) return [BOOLEAN[text] as number, 'long'];
  return `'${text.slice(0, 40)}' is not a float, an integer (i, u), a boolean or a quoted string`;
}

/** Reads a line left to right, each character once. */
class Reader {
  #at: number;

  constructor(
    readonly text: string,
    from = 0,
    readonly end = text.length,
  ) {
    this.#at = from;
  }

  peek(): string | undefined {
    return this.#at < this.end ? this.text[this.#at] : undefined;
  }

  skip(): void {
    this.#at++;
  }

  skipSpaces(): void {
    while (this.#at < this.end && this.text.charCodeAt(this.#at) === 32) this.#at++;
  }

  rest(): string {
    return this.text.slice(this.#at, this.end);
  }

  /** Up to (not including) one of `stops` (`SPACE`, `COMMA`, `EQUALS` or'd); a backslash escapes the next character (`=` too when `equalsEscapes`). */
  until(stops: number, equalsEscapes: boolean): string {
    const { text } = this;
    const from = this.#at;
    let escaped = false;
    let i = from;
    for (; i < this.end; i++) {
      const c = text.charCodeAt(i);
      if (c === 92 && i + 1 < this.end) {
        escaped = true;
        i++;
      } else if ((c === 32 && stops & SPACE) || (c === 44 && stops & COMMA) || (c === 61 && stops & EQUALS)) {
        break;
      }
    }
    this.#at = i;
    const raw = text.slice(from, i);
    return escaped ? raw.replace(equalsEscapes ? /\\([ ,=\\])/g : /\\([ ,\\])/g, '$1') : raw;
  }

  /** A double-quoted string (`\"` and `\\` escaped), or undefined without its closing quote. */
  quoted(): { text: string } | undefined {
    this.#at++;
    let out = '';
    for (; this.#at < this.end; this.#at++) {
      const c = this.text[this.#at] as string;
      if (c === '\\' && (this.text[this.#at + 1] === '"' || this.text[this.#at + 1] === '\\')) {
        out += this.text[++this.#at];
        continue;
      }
      if (c === '"') {
        this.#at++;
        return { text: out };
      }
      out += c;
    }
    return undefined;
  }
}
