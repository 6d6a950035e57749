/**
 * Prometheus remote read (SAMPLES responses): a `ReadRequest` of queries — a time range and label matchers — read
 * from the store, answered as a `ReadResponse` of time series. `__name__` is the metric; `=` matchers on other labels
 * are the store's tag filter, `!=`, `=~` and `!~` are checked on each series found.
 */
import { ProtobufError, ProtobufReader, ProtobufWriter } from './protobuf.js';
import type { ValueTest } from './regex.js';

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
 * A test of label values for a matcher (an absent label is the empty value). A pattern of literal alternatives is
 * tested as a set; any other regular expression is compiled by `compile` (see `regexCompiler`).
 */
export function matcherTest(matcher: LabelMatcher, compile: (pattern: string) => ValueTest): ValueTest {
  if (matcher.type === 0) return (value) => value === matcher.value;
  if (matcher.type === 1) return (value) => value !== matcher.value;
  const literals = literalSet(matcher.value);
  const matches = literals ? (value: string) => literals.has(value) : compile(matcher.value);
  return matcher.type === 2 ? matches : (value) => !matches(value);
}

/**
 * The values a `=~` pattern of literal alternatives matches (`web1|web2` → ['web1', 'web2']), so that the store's tag
 * index can select them; undefined for any other pattern, or one that matches the empty value.
 */
export function literalAlternatives(pattern: string): string[] | undefined {
  const values = literalSet(pattern);
  return values && !values.has('') ? [...values] : undefined;
}

/** The alternatives of a pattern made of literals only (a backslash before a punctuation character makes it literal). */
function literalSet(pattern: string): Set<string> | undefined {
  const values = new Set<string>();
  let literal = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '|') {
      values.add(literal);
      literal = '';
    } else if (c === '\\') {
      const next = pattern[++i];
      if (next === undefined || /[A-Za-z0-9]/.test(next)) return undefined;
      literal += next;
    } else if ('.*+?()[]{}^$'.includes(c)) {
      return undefined;
    } else {
      literal += c;
    }
  }
  values.add(literal);
  return values;
}
