import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PointPage, SeriesRead } from '../src/store-api/contract.js';
import { mergeSeries } from '../src/query/merge.js';

/** A series whose points arrive in pages of the given sizes, as typed arrays or plain arrays. */
function seriesOf(name: string, timestamps: number[], sizes: number[], typed: boolean): SeriesRead {
  return {
    metric: 'm',
    tags: { s: name },
    type: 'double',
    storage: 'double',
    async *points(): AsyncIterable<PointPage> {
      let at = 0;
      for (let p = 0; at < timestamps.length; p++) {
        const size = sizes[p % sizes.length] as number;
        const ts = timestamps.slice(at, at + size);
        const values = ts.map((t) => t * 10 + Number(name));
        yield typed ? { timestamps: Float64Array.from(ts), values: Float64Array.from(values) } : { timestamps: ts, values };
        at += size;
        if (p % 3 === 0) yield { timestamps: [], values: [] };
      }
    },
  };
}

/** Strictly ascending timestamps: long runs of close ones, sometimes far apart, so series interleave in runs of every length. */
const timestamps = fc
  .tuple(fc.integer({ min: 0, max: 200_000 }), fc.array(fc.oneof({ arbitrary: fc.integer({ min: 1, max: 3 }), weight: 9 }, fc.integer({ min: 1, max: 2000 })), { maxLength: 3000, size: 'max' }))
  .map(([offset, steps]) => steps.reduce<number[]>((out, step) => (out.push((out.at(-1) ?? offset) + step), out), []));

describe('mergeSeries', () => {
  it('merges any series in time order, ties by series position, pages good until the next is asked for (property)', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(timestamps, fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 4 }), fc.boolean()), { minLength: 1, maxLength: 4 }),
        fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
        async (specs, order) => {
          const series = specs.map(([ts, sizes, typed], i) => seriesOf(String(i), order === 'asc' ? ts : [...ts].reverse(), sizes, typed));
          const expected = specs
            .flatMap(([ts], rank) => ts.map((t) => ({ t, rank })))
            .sort((a, b) => (order === 'asc' ? a.t - b.t : b.t - a.t) || a.rank - b.rank)
            .map(({ t, rank }) => [t, t * 10 + rank, rank]);
          const got: number[][] = [];
          let heard = 0;
          for await (const page of mergeSeries(series, order, (n) => (heard += n))) {
            assert.ok(page.timestamps.length > 0, 'no empty pages');
            for (let k = 0; k < page.timestamps.length; k++) got.push([page.timestamps[k] as number, page.values[k] as number, Number(page.seriesAt(k).tags.s)]);
          }
          assert.deepEqual(got, expected);
          assert.equal(heard, expected.length, 'onPage hears every point once');
        },
      ),
      { numRuns: 300, endOnFailure: true },
    );
  });
});
