import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SeriesColumns } from '../src/stores/memory-columns.js';

describe('SeriesColumns (the memory store\'s typed columns)', () => {
  it('after any writes (appends, overlaps, disorder) and range deletes, holds exactly what a naive map holds, in time order, across block edges', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), points: fc.array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -1000, max: 1000 })), { maxLength: 20 }), ttl: fc.constantFrom(0, 5) }),
      fc.record({ kind: fc.constant('delete' as const), from: fc.integer({ min: -60, max: 60 }), span: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), fc.constantFrom(2, 3, 10), fc.boolean(), (ops, blockBits, text) => {
        const columns = new SeriesColumns(text ? 'string' : 'long', blockBits);
        const stored = (v: number) => (text ? `v${v}` : v);
        const reference = new Map<number, [number | string, number]>();
        for (const o of ops) {
          if (o.kind === 'write') {
            columns.add(o.points.map((p) => p[0]), o.points.map((p) => stored(p[1])), o.ttl);
            for (const [t, v] of o.points) reference.set(t, [stored(v), o.ttl]);
          } else {
            columns.retain((i) => columns.timestamp(i) < o.from || columns.timestamp(i) > o.from + o.span);
            for (const t of [...reference.keys()]) if (t >= o.from && t <= o.from + o.span) reference.delete(t);
          }
        }
        const expected = [...reference].sort((a, b) => a[0] - b[0]);
        const got = Array.from({ length: columns.length }, (_, i) => [columns.timestamp(i), [columns.value(i), columns.expiry(i)]]);
        assert.deepEqual(got, expected);
        for (let t = -50; t <= 51; t += 7) assert.equal(columns.lowerBound(t), expected.filter(([x]) => x < t).length);
      }),
      { numRuns: 400 },
    );
  });

  it('keeps a numeric point in 16 bytes of columns without TTL, the slack of a long series under one block of 1,024', () => {
    const columns = new SeriesColumns('double');
    for (let i = 0; i < 1000; i++) columns.add(Array.from({ length: 10 }, (_, k) => i * 10 + k), Array.from({ length: 10 }, (_, k) => k / 3), 0);
    assert.equal(columns.expiring, false);
    assert.equal(columns.length, 10_000);
    assert.equal(columns.byteLength, Math.ceil(10_000 / 1024) * 1024 * 16);
    columns.retain((i) => columns.timestamp(i) < 1500);
    assert.equal(columns.length, 1500);
    assert.equal(columns.byteLength, 2 * 1024 * 16, 'a range delete gives back the blocks it empties');
  });

  it('merges a write that reaches far back (a tail of 5,000 points, longer than the arrays merges keep)', () => {
    for (const storage of ['double', 'string'] as const) {
      const columns = new SeriesColumns(storage);
      const value = (t: number) => (storage === 'double' ? t / 2 : `v${t}`);
      const odd = Array.from({ length: 5000 }, (_, i) => 2 * i + 1);
      columns.add(odd, odd.map(value), 0);
      columns.add([0, 4, 10_000], [value(0), value(4), value(10_000)], 7);
      assert.equal(columns.length, 5003);
      assert.deepEqual([0, 1, 2, 3, 5002].map((i) => [columns.timestamp(i), columns.value(i), columns.expiry(i)]), [
        [0, value(0), 7],
        [1, value(1), 0],
        [3, value(3), 0],
        [4, value(4), 7],
        [10_000, value(10_000), 7],
      ]);
    }
  });

  it('keeps expiry only in the blocks whose points have a TTL', () => {
    const columns = new SeriesColumns('double', 3);
    columns.add([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8], 0);
    assert.equal(columns.byteLength, 8 * 16);
    columns.add([9, 10], [9, 10], 100);
    assert.equal(columns.byteLength, 16 * 16 + 8 * 4);
    assert.deepEqual([columns.expiry(7), columns.expiry(8), columns.expiry(9)], [0, 100, 100]);
    assert.equal(columns.live(9, 99_000), true);
    assert.equal(columns.live(9, 100_000), false);
  });
});
