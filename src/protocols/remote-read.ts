/**
 * Prometheus remote read (SAMPLES responses): a `ReadRequest` of queries — a time range and label matchers — read
 * from the store, answered as a `ReadResponse` of time series. `__name__` is the metric; `=` matchers on other labels
 * are the store's tag filter, `!=`, `=~` and `!~` are checked on each series found. Regular expressions are matched
 * in linear time, so only the forms that allows are taken: literals, `|` between alternatives, `.*` and `.+`.
 */
import { ProtobufError, ProtobufReader, ProtobufWriter } from './protobuf.js';

/** A label matcher: `=`, `!=`, `=~`, `!~`. */
export interface LabelMatcher {
  readonly type: 0 | 1 | 2 | 3;
  readonly name: string;
  readonly value: string;
}

/** One query of a read request. */
export interface ReadQuery {
  readonly start: number;
  readonly end: number;
  readonly matchers: readonly LabelMatcher[];
}

/** Decodes a read request; a body that is not one throws a `ProtobufError`. */
export function readRequest(bytes: Uint8Array): { queries: ReadQuery[]; responseTypes: number[] } {
  const reader = new ProtobufReader(bytes);
  const queries: ReadQuery[] = [];
  const responseTypes: number[] = [];
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1 && wire === 2) queries.push(queryOf(reader.message()));
    else if (field === 2 && wire === 0) responseTypes.push(reader.varint());
    else if (field === 2 && wire === 2) for (const packed = reader.message(); !packed.done; ) responseTypes.push(packed.varint());
    else reader.skip(wire);
  }
  return { queries, responseTypes };
}

function queryOf(query: ProtobufReader): ReadQuery {
  let start = 0;
  let end = 0;
  const matchers: LabelMatcher[] = [];
  while (!query.done) {
    const { field, wire } = query.tag();
    if (field === 1 && wire === 0) start = query.int64();
    else if (field === 2 && wire === 0) end = query.int64();
    else if (field === 3 && wire === 2) matchers.push(matcherOf(query.message()));
    else query.skip(wire);
  }
  return { start, end, matchers };
}

function matcherOf(matcher: ProtobufReader): LabelMatcher {
  let type = 0;
  let name = '';
  let value = '';
  while (!matcher.done) {
    const { field, wire } = matcher.tag();
    if (field === 1 && wire === 0) type = matcher.varint();
    else if (field === 2 && wire === 2) name = matcher.string();
    else if (field === 3 && wire === 2) value = matcher.string();
    else matcher.skip(wire);
  }
  if (type > 3) throw new ProtobufError(`matcher type ${type} is not one of =, !=, =~, !~`);
  return { type: type as LabelMatcher['type'], name, value };
}

/** A series of the answer: its labels (sorted by name, `__name__` among them) and samples in time order. */
export interface ReadSeries {
  readonly labels: readonly [string, string][];
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
}

/**
 * Encodes a read response of one result per query, a series at a time with `pace()` between them (a response of
 * 100,000 series is encoded in slices, not one stretch).
 */
export async function readResponse(results: readonly (readonly ReadSeries[])[], pace: () => Promise<void>): Promise<Buffer> {
  const out = new ProtobufWriter();
  for (const result of results) {
    const encoded: Buffer[] = [];
    for (const series of result) {
      encoded.push(
        new ProtobufWriter()
          .message(1, (s) => {
            for (const [name, value] of series.labels) s.message(1, (l) => l.string(1, name).string(2, value));
            for (let i = 0; i < series.timestamps.length; i++) s.message(2, (p) => p.double(1, series.values[i] as number).int64(2, series.timestamps[i] as number));
          })
          .finish(),
      );
      await pace();
    }
    out.bytes(1, Buffer.concat(encoded));
  }
  return out.finish();
}

/**
 * A test of label values for a matcher, or why its regular expression is not taken. Prometheus anchors regular
 * expressions at both ends; an absent label is the empty value.
 */
export function matcherTest(matcher: LabelMatcher): ((value: string) => boolean) | string {
  if (matcher.type === 0) return (value) => value === matcher.value;
  if (matcher.type === 1) return (value) => value !== matcher.value;
  const alternatives = matcher.value.split('|').map(globOf);
  const bad = alternatives.find((a) => typeof a === 'string');
  if (typeof bad === 'string') return bad;
  const globs = alternatives as Glob[];
  const matches = (value: string) => globs.some((glob) => globMatches(glob, value));
  return matcher.type === 2 ? matches : (value) => !matches(value);
}

/**
 * The values a `=~` pattern of literal alternatives matches (`web1|web2` → ['web1', 'web2']), so that the store's tag
 * index can select them; undefined for a pattern with a wildcard, or one that matches the empty value.
 */
export function literalAlternatives(pattern: string): string[] | undefined {
  const values: string[] = [];
  for (const alternative of pattern.split('|')) {
    const glob = globOf(alternative);
    if (typeof glob === 'string' || glob.length !== 1 || !('literal' in (glob[0] as Glob[number]))) return undefined;
    values.push((glob[0] as { literal: string }).literal);
  }
  return values;
}

/** A pattern of literal parts and wildcards (`.*` any, `.+` at least one character). */
type Glob = ({ literal: string } | { anyOf: 0 | 1 })[];

/** The glob of one alternative, or why it is not one (a character class, a group, a quantifier on a literal, …). */
function globOf(alternative: string): Glob | string {
  const parts: Glob = [];
  let literal = '';
  for (let i = 0; i < alternative.length; i++) {
    const c = alternative[i] as string;
    if (c === '\\' && i + 1 < alternative.length) {
      const next = alternative[++i] as string;
      if (/[A-Za-z0-9]/.test(next)) return `the regular expression '${alternative.slice(0, 60)}' uses '\\${next}'; only literals, |, .* and .+ are taken (matched in linear time)`;
      literal += next;
    } else if (c === '.' && (alternative[i + 1] === '*' || alternative[i + 1] === '+')) {
      if (literal) parts.push({ literal });
      literal = '';
      parts.push({ anyOf: alternative[++i] === '+' ? 1 : 0 });
    } else if ('.*+?()[]{}^$'.includes(c)) {
      return `the regular expression '${alternative.slice(0, 60)}' uses '${c}'; only literals, |, .* and .+ are taken (matched in linear time)`;
    } else {
      literal += c;
    }
  }
  if (literal) parts.push({ literal });
  return parts;
}

/** Whether a glob matches the whole value: literal parts in order, the wildcards between them (greedy-free, linear per part). */
function globMatches(parts: Glob, value: string): boolean {
  let at = 0;
  let minGap = 0;
  let floating = false;
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k] as Glob[number];
    if ('anyOf' in part) {
      minGap += part.anyOf;
      floating = true;
      continue;
    }
    const last = k === parts.length - 1;
    if (!floating) {
      if (!value.startsWith(part.literal, at)) return false;
      at += part.literal.length;
    } else if (last) {
      const from = value.length - part.literal.length;
      if (from < at + minGap || !value.endsWith(part.literal)) return false;
      at = value.length;
    } else {
      const found = value.indexOf(part.literal, at + minGap);
      if (found < 0) return false;
      at = found + part.literal.length;
    }
    minGap = 0;
    floating = false;
  }
  return floating ? value.length - at >= minGap : at === value.length;
}
