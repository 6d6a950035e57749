/**
 * Influx line protocol (`measurement,tag=v field=1.5,other=2i 1700000000000000000`), read in one pass over the
 * text: each field becomes a metric `<measurement>.<field>` with the line's tags (KairosDB needs one: a line
 * without tags gets `add=tag`, as KairosDB's telnet does). Floats are doubles; `i` and `u` integers are longs; `t`/`f`
 * booleans are longs 1/0; quoted strings are strings.
 */

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

/** Whether `precision` is one of the names Influx takes. */
export const isPrecision = (precision: string): boolean => Object.hasOwn(PRECISION, precision);

/** The metrics of a body, each with the number of the line of its first point; or the first line that cannot be read. */
export type InfluxParse = { ok: true; metrics: Record<string, unknown>[]; lines: number[] } | { ok: false; line: number; message: string };

/** Longest stretch of reading before the event loop gets a turn, ms. */
const TURN_MS = 10;

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
  readonly key: string;
  readonly measurement: string;
  readonly tags: Record<string, string>;
  readonly fields: Map<string, unknown[][]>;
}

/**
 * Parses a body of lines; `now` (ms) is the time of lines without a timestamp. The points of one measurement, tag set,
 * field and type are gathered into one metric (its origin the line of its first point); a tag set written as an
 * earlier line wrote it is read once (and one written as the line before, without a lookup).
 */
export async function parseInflux(text: string, precision: string, now: number, maxTags = Infinity): Promise<InfluxParse> {
  const metrics: Record<string, unknown>[] = [];
  let turnAt = performance.now() + TURN_MS;
  const lines: number[] = [];
  const seriesByText = new Map<string, SeriesText | string>();
  let previous: SeriesText | undefined;
  let number = 0;
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    // A body of 16 MiB of lines takes ~200 ms to read: the event loop gets a turn every TURN_MS.
    if (++number % 1024 === 0 && performance.now() >= turnAt) {
      await new Promise((resolve) => setImmediate(resolve));
      turnAt = performance.now() + TURN_MS;
    }
    let from = start;
    start = end + 1;
    if (end > from && text.charCodeAt(end - 1) === 13) end--;
    while (from < end && (text.charCodeAt(from) === 32 || text.charCodeAt(from) === 9)) from++;
    if (from === end || text.charCodeAt(from) === 35) continue;
    let series: SeriesText | string | undefined;
    let space: number;
    if (previous && text.startsWith(previous.key, from) && text.charCodeAt(from + previous.key.length) === 32 && from + previous.key.length < end) {
      series = previous;
      space = from + previous.key.length;
    } else {
      space = seriesEnd(text, from, end);
      if (space < 0) return { ok: false, line: number, message: 'no fields (a space and field=value after the measurement and tags)' };
      const key = text.slice(from, space);
      series = seriesByText.get(key);
      if (series === undefined) seriesByText.set(key, (series = seriesOf(key, maxTags)));
      if (typeof series === 'string') return { ok: false, line: number, message: series };
      previous = series;
    }
    const parsed = fieldsOf(text, space, end, precision, now);
    if (typeof parsed === 'string') return { ok: false, line: number, message: parsed };
    const { timestamp, fields } = parsed;
    for (const [field, value, type] of fields) {
      const id = `${field}\u0000${type}`;
      let datapoints = series.fields.get(id);
      if (!datapoints) {
        series.fields.set(id, (datapoints = []));
        metrics.push({ name: `${series.measurement}.${field}`, tags: series.tags, type, datapoints });
        lines.push(number);
      }
      datapoints.push([timestamp, value]);
    }
  }
  return { ok: true, metrics, lines };
}

/** Where a line's measurement and tags end: its first space not escaped by a backslash (-1 when there is none). */
function seriesEnd(text: string, from: number, end: number): number {
  for (let at = text.indexOf(' ', from); at !== -1 && at < end; at = text.indexOf(' ', at + 1)) {
    let backslashes = 0;
    for (let i = at - 1; i >= from && text.charCodeAt(i) === 92; i--) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

/** The measurement and tags of a line's first part, or why it is not one. */
function seriesOf(text: string, maxTags: number): SeriesText | string {
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
  return { key: text, measurement, tags, fields: new Map() };
}

/** A line's fields (after its first space) and timestamp, or why they are not. */
function fieldsOf(text: string, space: number, end: number, precision: string, now: number): { timestamp: number; fields: [string, number | string, string][] } | string {
  const simple = simpleFields(text, space + 1, end, precision, now);
  if (simple !== undefined) return simple;
  const reader = new Reader(text, space, end);
  reader.skipSpaces();
  const fields: [string, number | string, string][] = [];
  for (;;) {
    const key = reader.until(EQUALS | COMMA | SPACE, true);
    if (reader.peek() !== '=' || key === '') return `field '${key.slice(0, 40)}' has no '=' or no name`;
    reader.skip();
    const value = reader.peek() === '"' ? reader.quoted() : reader.until(SPACE | COMMA, false);
    if (value === undefined) return `field '${key.slice(0, 40)}' has a string without its closing quote`;
    const field = typeof value === 'object' ? ([value.text, 'string'] as const) : fieldValue(value);
    if (typeof field === 'string') return `field '${key.slice(0, 40)}': ${field}`;
    fields.push([key, field[0], field[1]]);
    if (reader.peek() !== ',') break;
    reader.skip();
  }
  reader.skipSpaces();
  const time = reader.rest().trim();
  if (time === '') return { timestamp: now, fields };
  const timestamp = toMillis(time, precision);
  return typeof timestamp === 'string' ? timestamp : { timestamp, fields };
}

/**
 * The common line's fields, read in one pass without the general reader: no backslash or quote, numbers of at most
 * 15 digits read as they are scanned (undefined: the general reader reads the line, and says what is wrong).
 */
function simpleFields(text: string, from: number, end: number, precision: string, now: number): { timestamp: number; fields: [string, number | string, string][] } | undefined {
  const fields: [string, number | string, string][] = [];
  let i = from;
  for (;;) {
    const keyStart = i;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 61) break;
      if (c === 44 || c === 32 || c === 92 || c === 34) return undefined;
    }
    if (i === keyStart || i >= end) return undefined;
    const key = text.slice(keyStart, i++);
    const valueStart = i;
    const negative = text.charCodeAt(i) === 45;
    if (negative) i++;
    let int = 0;
    let digits = 0;
    let other = -1;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        int = int * 10 + (c - 48);
        digits++;
      } else if (c === 44 || c === 32) {
        break;
      } else if (c === 92 || c === 34) {
        return undefined;
      } else if (other === -1) {
        other = i;
      } else {
        other = -2;
      }
    }
    if (digits > 0 && digits <= 15 && other === -1) fields.push([key, negative ? -int : int, 'double']);
    else if (digits > 0 && digits <= 15 && other === i - 1 && (text.charCodeAt(other) === 105 || (text.charCodeAt(other) === 117 && !negative))) fields.push([key, negative ? -int : int, 'long']);
    else {
      const value = fieldValue(text.slice(valueStart, i));
      if (typeof value === 'string') return undefined;
      fields.push([key, value[0], value[1]]);
    }
    if (i >= end) return { timestamp: now, fields };
    if (text.charCodeAt(i++) === 32) break;
  }
  const negative = text.charCodeAt(i) === 45;
  if (negative) i++;
  const digitsStart = i;
  let time = 0;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    time = time * 10 + (c - 48);
  }
  const count = i - digitsStart;
  const { drop = 0, multiply = 1 } = PRECISION[precision] ?? {};
  const kept = count - drop;
  if (count === 0 || kept > 15) return undefined;
  if (drop > 0) {
    time = 0;
    for (let k = digitsStart; k < digitsStart + kept; k++) time = time * 10 + (text.charCodeAt(k) - 48);
  }
  const ms = time * multiply;
  if (!Number.isSafeInteger(ms)) return undefined;
  return { timestamp: negative && ms !== 0 ? -ms : ms, fields };
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
