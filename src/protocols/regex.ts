import { httpError } from '../errors.js';
import { requirePeer } from '../optional-peer.js';

interface Re2 {
  RE2JS: {
    readonly DOTALL: number;
    compile(pattern: string, flags: number): { matches(input: string): boolean };
  };
}

/** The longest regular expression a matcher may hold (compiling is linear in it, ~1.5 ms a KiB). */
export const MAX_PATTERN_LENGTH = 4096;

/** A compiled matcher's test of a whole label value. */
export type ValueTest = (value: string) => boolean;

/**
 * Prometheus' regular expressions — RE2 syntax, matched in time linear in the value by `re2js` (an optional peer,
 * loaded when called) — anchored at both ends with `.` matching a newline too, as Prometheus compiles them
 * (`^(?s:…)$`). A pattern that does not parse, or is longer than `MAX_PATTERN_LENGTH`, is a 400.
 */
export function regexCompiler(): (pattern: string) => ValueTest {
  const { RE2JS } = requirePeer<Re2>('re2js');
  return (pattern) => {
    if (pattern.length > MAX_PATTERN_LENGTH) {
      throw httpError('QUERY_LIMIT', `a regular expression of ${pattern.length} characters; at most ${MAX_PATTERN_LENGTH} are taken`);
    }
    let compiled: { matches(input: string): boolean };
    try {
      compiled = RE2JS.compile(pattern, RE2JS.DOTALL);
    } catch (error) {
      throw httpError('INVALID_BODY', `the regular expression '${pattern.slice(0, 60)}' is not valid: ${(error as Error).message}`);
    }
    return (value) => compiled.matches(value);
  };
}
