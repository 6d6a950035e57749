/**
 * Influx line protocol (`measurement,tag=v field=1.5,other=2i 1700000000000000000`), read in one pass over the
 * text: each field becomes a metric `<measurement>.<field>` with the line's tags (KairosDB needs one: a line
 * without tags gets `add=tag`, as KairosDB's telnet does). Floats are doubles; `i` and `u` integers are longs; `t`/`f`
 * booleans are longs 1/0; quoted strings are strings.
 */

/** Timestamp precisions, by the names v1 (`n`, `u`, `ms`, `s`, `m`, `h`) and v2 (`ns`, `us`, `ms`, `s`) use. */
const PRECISION: Record<string, { divide?: bigint; multiply?: bigint }> = {
  n: { divide: 1_000_000n },
  ns: { divide: 1_000_000n },
  u: { divide: 1000n },
  us: { divide: 1000n },
  ms: {},
  s: { multiply: 1000n },
  m: { multiply: 60_000n },
  h: { multiply: 3_600_000n },
};

/** Whether `precision` is one of the names Influx takes. */
export const isPrecision = (precision: string): boolean => Object.hasOwn(PRECISION, precision);

/** The metrics of a body, each with the number of the line it came from; or the first line that cannot be read. */
export type InfluxParse = { ok: true; metrics: Record<string, unknown>[]; lines: number[] } | { ok: false; line: number; message: string };

const BOOLEAN: Record<string, number> = { t: 1, T: 1, true: 1, True: 1, TRUE: 1, f: 0, F: 0, false: 0, False: 0, FALSE: 0 };
const FLOAT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const INTEGER = /^[-+]?\d+i$/;
const UNSIGNED = /^\d+u$/;
const TIMESTAMP = /^-?\d{1,25}$/;

/** Parses a body of lines; `now` (ms) is the time of lines without a timestamp. */
export function parseInflux(text: string, precision: string, now: number): InfluxParse {
  const metrics: Record<string, unknown>[] = [];
  const lines: number[] = [];
  let number = 0;
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    number++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const trimmed = line.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const parsed = parseLine(trimmed, precision, now);
    if (typeof parsed === 'string') return { ok: false, line: number, message: parsed };
    for (const metric of parsed) {
      metrics.push(metric);
      lines.push(number);
    }
  }
  return { ok: true, metrics, lines };
}

/** The metrics of one line, or why it cannot be read. */
function parseLine(line: string, precision: string, now: number): Record<string, unknown>[] | string {
  const reader = new Reader(line);
  const measurement = reader.until(' ,', false);
  if (measurement === '') return 'no measurement';
  const tags: Record<string, string> = {};
  while (reader.peek() === ',') {
    reader.skip();
    const key = reader.until('=, ', true);
    if (reader.peek() !== '=') return `tag '${key.slice(0, 40)}' has no '='`;
    reader.skip();
    const value = reader.until(' ,', true);
    if (key === '' || value === '') return 'a tag with an empty key or value';
    tags[key] = value;
  }
  if (reader.peek() !== ' ') return 'no fields (a space and field=value after the measurement and tags)';
  reader.skipSpaces();
  const fields: [string, number | string, string][] = [];
  for (;;) {
    const key = reader.until('=, ', true);
    if (reader.peek() !== '=' || key === '') return `field '${key.slice(0, 40)}' has no '=' or no name`;
    reader.skip();
    const value = reader.peek() === '"' ? reader.quoted() : reader.until(' ,', false);
    if (value === undefined) return `field '${key.slice(0, 40)}' has a string without its closing quote`;
    const field = typeof value === 'object' ? ([value.text, 'string'] as const) : fieldValue(value);
    if (typeof field === 'string') return `field '${key.slice(0, 40)}': ${field}`;
    fields.push([key, field[0], field[1]]);
    if (reader.peek() !== ',') break;
    reader.skip();
  }
  reader.skipSpaces();
  const time = reader.rest().trim();
  let timestamp = now;
  if (time !== '') {
    if (!TIMESTAMP.test(time)) return `timestamp '${time.slice(0, 40)}' is not an integer`;
    const { divide, multiply } = PRECISION[precision] ?? {};
    let ms = BigInt(time);
    if (divide) ms /= divide;
    if (multiply) ms *= multiply;
    if (ms > BigInt(Number.MAX_SAFE_INTEGER) || ms < BigInt(Number.MIN_SAFE_INTEGER)) return `timestamp '${time.slice(0, 40)}' is out of range`;
    timestamp = Number(ms);
  }
  if (Object.keys(tags).length === 0) tags.add = 'tag';
  return fields.map(([field, value, type]) => ({ name: `${measurement}.${field}`, tags, timestamp, value, type }));
}

/** A field's value and its type, or why it is not one. */
function fieldValue(text: string): [number, string] | string {
  if (FLOAT.test(text)) return [Number(text), 'double'];
  if (INTEGER.test(text) || UNSIGNED.test(text)) {
    const value = Number(text.slice(0, -1));
    return Number.isSafeInteger(value) ? [value, 'long'] : `integer ${text.slice(0, 40)} is outside ±(2^53−1), which JavaScript keeps exactly`;
  }
  if (Object.hasOwn(BOOLEAN, text)) return [BOOLEAN[text] as number, 'long'];
  return `'${text.slice(0, 40)}' is not a float, an integer (i, u), a boolean or a quoted string`;
}

/** Reads a line left to right, each character once. */
class Reader {
  #at = 0;

  constructor(readonly text: string) {}

  peek(): string | undefined {
    return this.text[this.#at];
  }

  skip(): void {
    this.#at++;
  }

  skipSpaces(): void {
    while (this.text[this.#at] === ' ') this.#at++;
  }

  rest(): string {
    return this.text.slice(this.#at);
  }

  /** Up to (not including) one of `stops`; a backslash escapes the next character (`=` too when `equalsEscapes`). */
  until(stops: string, equalsEscapes: boolean): string {
    const { text } = this;
    const from = this.#at;
    let escaped = false;
    let i = from;
    for (; i < text.length; i++) {
      const c = text[i] as string;
      if (c === '\\' && i + 1 < text.length) {
        escaped = true;
        i++;
      } else if (stops.includes(c)) {
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
    for (; this.#at < this.text.length; this.#at++) {
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
