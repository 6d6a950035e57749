// The count of different member names in a JSON body before it is parsed (src/json-names.ts, maxNamesPerBody).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { countExceeds, exceedsNames, NAMES_SCAN_FROM } from '../src/json-names.js';

/** Different member names of a parsed value, counted the plain way. */
function namesOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) namesOf(v, into);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      namesOf(v, into);
    }
  }
  return into;
}

const bytesOf = (value: unknown) => Buffer.from(JSON.stringify(value));
/** Whether a string of the value (a name or a string value) holds a colon. */
const colonInString = (value: unknown): boolean => [...walk(value)].some((s) => s.includes(':'));
function* walk(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const v of value) yield* walk(v);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      yield k;
      yield* walk(v);
    }
  }
}
/** A body of `n` points of one series: a handful of names, over and over. */
const points = (n: number) => Array.from({ length: n }, (_, i) => ({ name: 'm', tags: { host: 'h', dc: 'a' }, timestamp: i, value: i }));

describe('countExceeds (a body counted whole)', () => {
  it('counts names, not string values, through escapes and whitespace before the colon', () => {
    const text = '{"a" : "b", "c\\"d":{"e":"f:\\\\","a":1}, "g"\n:["h", "i:j"]}';
    assert.equal(namesOf(JSON.parse(text)).size, 4);
    assert.equal(countExceeds(Buffer.from(text), 4), false);
    assert.equal(countExceeds(Buffer.from(text), 3), true);
  });

  it('counts names that end in a backslash or hold quotes and colons (escaped)', () => {
    const value = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`n${i}\\`, `v:${i}`]).concat(Array.from({ length: 40 }, (_, i) => [`q"${i}":`, 'x'])));
    assert.equal(namesOf(value).size, 80);
    assert.equal(countExceeds(bytesOf(value), 79), true);
    assert.equal(countExceeds(bytesOf(value), 80), false);
  });

  it('agrees with a plain count on random JSON; with colons inside strings it may count more, never fewer', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 30 }), (value, limit) => {
        const exceeds = namesOf(value).size > limit;
        if (colonInString(value)) assert.ok(!exceeds || countExceeds(bytesOf(value), limit));
        else assert.equal(countExceeds(bytesOf(value), limit), exceeds);
      }),
      { numRuns: 1000 },
    );
    assert.equal(countExceeds(bytesOf([':']), 0), false, 'a colon just inside a string value that opens the text');
  });
});

describe('exceedsNames (samples first, then counts)', () => {
  it('refuses a body whose names vary across it: one series per object, 50 new tag names each', () => {
    const body = Array.from({ length: 300 }, (_, s) => ({ name: 'm', tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${s * 50 + i}`, 'v'])), timestamp: 1, value: 1 }));
    assert.equal(namesOf(body).size, 15_004);
    for (let round = 0; round < 20; round++) assert.equal(exceedsNames(bytesOf(body), 10_000), true, 'the samples differ from body to body');
    assert.equal(exceedsNames(bytesOf(body), 20_000), false);
  });

  it('takes a body of points that uses a handful of names, and does not scan a body under NAMES_SCAN_FROM bytes', () => {
    const big = bytesOf(points(50_000));
    assert.ok(big.length > 1024 * 1024);
    assert.equal(exceedsNames(big, 4), false);
    const small = bytesOf(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 1])));
    assert.ok(small.length < NAMES_SCAN_FROM);
    assert.equal(exceedsNames(small, 10), false);
  });
});
