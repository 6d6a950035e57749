import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SeriesColumns } from '../src/stores/memory-columns.js';

describe('SeriesColumns (the memory store\'s typed columns)', () => {
  it('after any writes (appends, overlaps, disorder) and range deletes, holds exactly what a naive map holds, in time order', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), points: fc.array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -1000, max: 1000 })), { maxLength: 20 }), ttl: fc.constantFrom(0, 5) }),
      fc.record({ kind: fc.constant('delete' as const), from: fc.integer({ min: -60, max: 60 }), span: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const columns = new SeriesColumns('long');
        const reference = new Map<number, [number, number]>();
        for (const o of ops) {
          if (o.kind === 'write') {
            columns.add(o.points.map((p) => p[0]), o.points.map((p) => p[1]), o.ttl);
            for (const [t, v] of o.points) reference.set(t, [v, o.ttl]);
          } else {
            columns.retain((i) => (columns.timestamps[i] as number) < o.from || (columns.timestamps[i] as number) > o.from + o.span);
            for (const t of [...reference.keys()]) if (t >= o.from && t <= o.from + o.span) reference.delete(t);
          }
        }
        const expected = [...reference].sort((a, b) => a[0] - b[0]);
        const got = Array.from({ length: columns.length }, (_, i) => [columns.timestamps[i], [columns.value(i), columns.expires?.[i] ?? 0]]);
        assert.deepEqual(got, expected);
        for (let t = -50; t <= 51; t += 7) assert.equal(columns.lowerBound(t), expected.filter(([x]) => x < t).length);
      }),
      { numRuns: 400 },
    );
  });

  it('keeps a numeric point in 16 bytes of columns without TTL (20 with), plus at most a quarter of slack', () => {
    const columns = new SeriesColumns('double');
    for (let i = 0; i < 100; i++) columns.add(Array.from({ length: 1000 }, (_, k) => i * 1000 + k), Array.from({ length: 1000 }, (_, k) => k / 3), 0);
    const bytes = columns.timestamps.byteLength + (columns.numbers?.byteLength ?? 0) + (columns.expires?.byteLength ?? 0);
    assert.equal(columns.expires, undefined);
    assert.ok(bytes / columns.length <= 16 * 1.25, `${(bytes / columns.length).toFixed(1)} B/point`);
  });
});
