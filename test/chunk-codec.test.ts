import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { chunkOf, decodeChunk, encodeChunk, mergeChunks, type DecodedChunk } from '../src/stores/chunk/codec.js';
import { Writer } from '../src/stores/chunk/varint.js';
import type { StorageKind, StoredValue } from '../src/types/value-type.js';

const MAX = Number.MAX_SAFE_INTEGER;
const timestamp = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(-MAX, MAX, 0, 2 ** 52, -(2 ** 52)), fc.integer({ min: -MAX, max: MAX }), fc.integer({ min: 1_700_000_000_000, max: 1_700_000_100_000 }));
const VALUES: Record<StorageKind, fc.Arbitrary<StoredValue>> = {
  long: fc.oneof(fc.integer({ min: -MAX, max: MAX }), fc.constantFrom(-MAX, MAX, 0), fc.integer({ min: -5, max: 5 })),
  double: fc.oneof(fc.double({ noNaN: true }), fc.integer({ min: -1e9, max: 1e9 }).map((n) => n / 100), fc.constantFrom(0, -0, 5e-324, -5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, -Infinity, Infinity, 0.1)),
  string: fc.string({ unit: 'grapheme', maxLength: 20 }),
  bytes: fc.uint8Array({ maxLength: 24 }),
};

/** The naive reference: sort by time, keep the later value of a timestamp. */
function reference(points: [number, StoredValue][]): [number, StoredValue][] {
  const last = new Map<number, StoredValue>();
  for (const [t, v] of points) last.set(t, v);
  return [...last].sort((a, b) => a[0] - b[0]);
}

const pairsOf = (chunk: DecodedChunk) => Array.from(chunk.timestamps, (t, i) => [t, chunk.values[i]] as [number, StoredValue]);
const same = (a: [number, StoredValue][], b: [number, StoredValue][]) => {
  assert.equal(a.length, b.length);
  a.forEach(([t, v], i) => {
    assert.equal(t, b[i]?.[0]);
    const w = b[i]?.[1];
    if (v instanceof Uint8Array) assert.deepEqual([...v], [...(w as Uint8Array)]);
    else assert.ok(Object.is(v, w), `${String(v)} vs ${String(w)} at ${t}`);
  });
};

describe('chunk codec (delta-of-delta timestamps, XOR doubles, zig-zag longs)', () => {
  for (const storage of ['long', 'double', 'string', 'bytes'] as const) {
    it(`${storage}: decode(encode(chunkOf(points))) equals the naive reference, duplicates and disorder included`, () => {
      if (storage === 'double') {
        // short decimals only (the scaled-long path), then everything (the XOR path)
        fc.assert(fc.property(fc.array(fc.tuple(timestamp, fc.integer({ min: -1e9, max: 1e9 }).map((n) => n / 1000)), { maxLength: 60 }), (points) => {
          const back = decodeChunk(encodeChunk(chunkOf('double', points.map((p) => p[0]), points.map((p) => p[1]))));
          same(pairsOf(back), reference(points));
        }));
      }
      fc.assert(
        fc.property(fc.array(fc.tuple(timestamp, VALUES[storage]), { maxLength: 60 }), fc.oneof(fc.constant(0), fc.integer({ min: 1, max: MAX })), (points, expires) => {
          const chunk = chunkOf(storage, points.map((p) => p[0]), points.map((p) => p[1]), expires);
          const back = decodeChunk(encodeChunk(chunk));
          assert.equal(back.storage, storage);
          assert.deepEqual(back.expires && Array.from(back.expires), expires > 0 && chunk.timestamps.length > 0 ? chunk.timestamps.map(() => expires) : undefined);
          same(pairsOf(back), reference(points));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('merge: every point of both, the newer value and expiry at a shared timestamp', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(timestamp, VALUES.double), { maxLength: 40 }), fc.array(fc.tuple(timestamp, VALUES.double), { maxLength: 40 }), (a, b) => {
        const older = chunkOf('double', a.map((p) => p[0]), a.map((p) => p[1]));
        const newer = chunkOf('double', b.map((p) => p[0]), b.map((p) => p[1]), 5000);
        const merged = decodeChunk(encodeChunk(mergeChunks(decodeChunk(encodeChunk(older)), decodeChunk(encodeChunk(newer)))));
        same(pairsOf(merged), reference([...a, ...b]));
        const fromNewer = new Set(b.map((p) => p[0]));
        const times = Array.from(merged.timestamps);
        assert.deepEqual(merged.expires ? Array.from(merged.expires) : times.map(() => 0), times.map((t) => (fromNewer.has(t) ? 5000 : 0)));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses truncated or corrupted chunks instead of inventing points', () => {
    const bytes = encodeChunk(chunkOf('double', [1, 2, 3], [1.5, 2.5, 3.5], 7000));
    for (let cut = 0; cut < bytes.length; cut++) assert.throws(() => decodeChunk(bytes.subarray(0, cut)), RangeError);
    // the XOR path too (values that are no short decimals)
    const xor = encodeChunk(chunkOf('double', [1, 2, 3, 4], [Math.PI, Math.E, Math.E, 1 / 3]));
    for (let cut = 0; cut < xor.length; cut++) assert.throws(() => decodeChunk(xor.subarray(0, cut)), RangeError);
    assert.throws(() => decodeChunk(Uint8Array.from([9, 0, 0, 0])), /version 9/);
    assert.throws(() => decodeChunk(Uint8Array.from([...bytes, 0])), /trailing bytes/);
  });

  it('refuses a chunk whose timestamps leave the safe integers; longs that do come back exactly, as BigInts', () => {
    // 100 varints of 2^47 each: each fits the fast path, their sum (2^53.6) does not; nothing may come back rounded.
    const chunk = (timestamps: (number | bigint)[], values: (number | bigint)[]) => {
      const out = new Writer();
      for (const b of [2, 0]) out.byte(b); // version, storage 'long'
      out.unsigned(timestamps.length);
      out.unsigned(0); // no expiry
      for (const n of [...timestamps, ...values]) out.signed(n);
      return out.done();
    };
    const steps = Array.from({ length: 100 }, (_, i) => i);
    const big = steps.map(() => 2 ** 47);
    // values: deltas summing beyond ±(2^53−1) are longs a double cannot hold, kept exactly (issue #31 row 1)
    const exact = decodeChunk(chunk(steps, big)).values;
    assert.equal(exact[40], 41 * 2 ** 47);
    assert.equal(exact[99], 100n * 2n ** 47n);
    assert.throws(() => decodeChunk(chunk([0, 2 ** 47, ...steps.slice(2).map(() => 0)], steps)), /safe integer range/); // timestamps: a delta kept 100 times
    // the same shapes within range decode exactly
    const fine = decodeChunk(chunk([0, 2 ** 40, ...steps.slice(2).map(() => 0)], steps.map(() => 2 ** 40)));
    assert.equal(fine.timestamps[99], 99 * 2 ** 40);
    assert.equal(fine.values[99], 100 * 2 ** 40);
  });

  it('keeps a regular float series in a few bytes per point (10 s steps, values with two decimals)', () => {
    const n = 8640;
    const timestamps = Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 10_000);
    let v = 50;
    const values = timestamps.map((_, i) => (v = Math.round((v + Math.sin(i / 30)) * 100) / 100));
    const size = encodeChunk(chunkOf('double', timestamps, values)).length;
    assert.ok(size / n <= 4, `${(size / n).toFixed(2)} bytes per point`);
    const counter = encodeChunk(chunkOf('long', timestamps, timestamps.map((_, i) => i * 3)));
    assert.ok(counter.length / n < 3, `${(counter.length / n).toFixed(2)} bytes per point for a counter`);
  });
});
