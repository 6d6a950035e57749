import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { chain, pushRun, type Sink } from '../src/query/aggregators.js';
import { percentileOf } from '../src/query/reducers.js';
import { parseQuery } from '../src/query/parse.js';
import { addUnits } from '../src/query/time.js';

const T = Date.UTC(2026, 0, 5, 10, 0, 0); // a Monday, 10:00 UTC
const MIN = 60_000;

/** Runs points through the aggregators of a query whose window is [start, end]. */
function aggregate(points: [number, number][], aggregators: object[], window = { start: T, end: T + 60 * MIN }, zone = 'UTC') {
  const parsed = parseQuery({ start_absolute: window.start, end_absolute: window.end, metrics: [{ name: 'm', aggregators }] }, window.end);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const out: [number, number | bigint | null][] = [];
  const last: Sink = { push: (t, v) => void out.push([t, v]), end() {} };
  const sink = chain(parsed.spec.metrics[0]!.aggregators, { start: window.start, end: window.end, zone, now: window.end }, last);
  for (const [t, v] of points) sink.push(t, v);
  sink.end();
  return out;
}

const every = (minutes: number[], values: number[]): [number, number][] => minutes.map((m, i) => [T + m * MIN, values[i] as number]);
const pts = every([0, 1, 2, 5, 6, 11], [1, 2, 3, 4, 6, 10]);
const five = { sampling: { value: 5, unit: 'minutes' } };

/** Aggregator → input, options, expected output (SPEC §2.2). */
const TABLE: [string, [number, number][], object[], [number, number | null][]][] = [
  ['avg over 5-minute ranges, stamped with the first point', pts, [{ name: 'avg', ...five }], [[T, 2], [T + 5 * MIN, 5], [T + 11 * MIN, 10]]],
  ['sum with align_start_time', pts, [{ name: 'sum', ...five, align_start_time: true }], [[T, 6], [T + 5 * MIN, 10], [T + 10 * MIN, 10]]],
  ['count with align_end_time', pts, [{ name: 'count', ...five, align_end_time: true }], [[T + 5 * MIN, 3], [T + 10 * MIN, 2], [T + 15 * MIN, 1]]],
  ['min', pts, [{ name: 'min', ...five }], [[T, 1], [T + 5 * MIN, 4], [T + 11 * MIN, 10]]],
  ['max', pts, [{ name: 'max', ...five }], [[T, 3], [T + 5 * MIN, 6], [T + 11 * MIN, 10]]],
  ['first', pts, [{ name: 'first', ...five }], [[T, 1], [T + 5 * MIN, 4], [T + 11 * MIN, 10]]],
  ['last keeps its own timestamp', pts, [{ name: 'last', ...five }], [[T + 2 * MIN, 3], [T + 6 * MIN, 6], [T + 11 * MIN, 10]]],
  ['dev is the sample standard deviation (0 for one point)', pts, [{ name: 'dev', ...five }], [[T, 1], [T + 5 * MIN, Math.SQRT2], [T + 11 * MIN, 0]]],
  ['percentile 0.5 interpolates at p(n+1)', every([0, 1, 2, 3], [1, 2, 3, 4]), [{ name: 'percentile', percentile: '0.5', ...five }], [[T, 2.5]]],
  ['least_squares gives two points on the fitted line', every([0, 1, 2], [1, 3, 5]), [{ name: 'least_squares', ...five }], [[T, 1], [T + 2 * MIN, 5]]],
  ['sampling defaults to 1 ms: sum per distinct timestamp', [[T, 1], [T, 2], [T + 1, 3]], [{ name: 'sum' }], [[T, 3], [T + 1, 3]]],
  ['gaps marks empty ranges with null, up to the range holding the window end', every([0, 11], [1, 2]), [{ name: 'gaps', ...five }], [[T, 1], [T + 5 * MIN, null], [T + 11 * MIN, 2], ...Array.from({ length: 10 }, (_, i): [number, null] => [T + (15 + 5 * i) * MIN, null])]],
  ['diff: n−1 points stamped with the later one', every([0, 1, 3], [5, 8, 4]), [{ name: 'diff' }], [[T + MIN, 3], [T + 3 * MIN, -4]]],
  ['rate per minute', every([0, 2], [10, 30]), [{ name: 'rate', unit: 'minutes' }], [[T + 2 * MIN, 10]]],
  ['rate per second via sampling', every([0, 2], [10, 130]), [{ name: 'rate', sampling: { value: 1, unit: 'seconds' } }], [[T + 2 * MIN, 1]]],
  ['sampler normalises each value to the unit', every([0, 2], [10, 30]), [{ name: 'sampler', unit: 'minutes' }], [[T + 2 * MIN, 15]]],
  ['div', every([0], [10]), [{ name: 'div', divisor: '4' }], [[T, 2.5]]],
  ['scale', every([0], [10]), [{ name: 'scale', factor: -2 }], [[T, -20]]],
  ['filter removes matching points', every([0, 1, 2], [1, 5, 9]), [{ name: 'filter', filter_op: 'gte', threshold: 5 }], [[T, 1]]],
  ['trim both', every([0, 1, 2, 3], [1, 2, 3, 4]), [{ name: 'trim', trim: 'both' }], [[T + MIN, 2], [T + 2 * MIN, 3]]],
  ['trim first', every([0, 1, 2], [1, 2, 3]), [{ name: 'trim', trim: 'FIRST' }], [[T + MIN, 2], [T + 2 * MIN, 3]]],
  ['trim last', every([0, 1, 2], [1, 2, 3]), [{ name: 'trim', trim: 'last' }], [[T, 1], [T + MIN, 2]]],
  ['sma emits nothing for the first size−1 points', every([0, 1, 2, 3], [1, 2, 3, 4]), [{ name: 'sma', size: 3 }], [[T + 2 * MIN, 2], [T + 3 * MIN, 3]]],
  ['a chain: each aggregator feeds the next', pts, [{ name: 'sum', ...five }, { name: 'scale', factor: 10 }, { name: 'diff' }], [[T + 5 * MIN, 40], [T + 11 * MIN, 0]]],
];

describe('aggregators (fixture table)', () => {
  for (const [title, points, aggregators, expected] of TABLE) {
    it(title, () => {
      const got = aggregate(points, aggregators);
      assert.equal(got.length, expected.length, JSON.stringify(got));
      got.forEach(([t, v], i) => {
        const [et, ev] = expected[i] as [number, number | null];
        assert.equal(t, et, `timestamp ${i}`);
        if (ev === null) assert.equal(v, null);
        else assert.ok(Math.abs((v as number) - ev) < 1e-9, `value ${i}: ${v} ≠ ${ev}`);
      });
    });
  }

  it('aligns sampling to the start of the day for hours, even when the query starts mid-day', () => {
    const start = T + 17 * MIN;
    const got = aggregate([[T + 125 * MIN, 1]], [{ name: 'count', sampling: { value: 2, unit: 'hours' }, align_start_time: true }], { start, end: start + 300 * MIN });
    assert.deepEqual(got, [[Date.UTC(2026, 0, 5, 12), 1]]);
  });

  it('aligns month sampling to the 1st of the month', () => {
    const start = Date.UTC(2026, 0, 17);
    const got = aggregate([[Date.UTC(2026, 1, 20), 5], [Date.UTC(2026, 2, 2), 7]], [{ name: 'sum', sampling: { value: 1, unit: 'months' }, align_start_time: true }], { start, end: Date.UTC(2026, 5, 1) });
    assert.deepEqual(got, [[Date.UTC(2026, 1, 1), 5], [Date.UTC(2026, 2, 1), 7]]);
  });

  it('counts months from the range start and takes the last day of a shorter month, as KairosDB (Joda-Time) does', () => {
    const start = Date.UTC(2026, 0, 31); // unaligned: ranges start on the 31st, or the month's last day
    const points: [number, number][] = [[Date.UTC(2026, 1, 27), 1], [Date.UTC(2026, 1, 28), 2], [Date.UTC(2026, 2, 30), 3], [Date.UTC(2026, 2, 31), 4]];
    const got = aggregate(points, [{ name: 'sum', sampling: { value: 1, unit: 'months' }, align_sampling: false, align_start_time: true }], { start, end: Date.UTC(2026, 5, 1) });
    assert.deepEqual(got, [[Date.UTC(2026, 0, 31), 1], [Date.UTC(2026, 1, 28), 5], [Date.UTC(2026, 2, 31), 4]]);
    assert.equal(addUnits(Date.UTC(2024, 0, 31), 1, 'MONTHS', 'UTC'), Date.UTC(2024, 1, 29));
    assert.equal(addUnits(Date.UTC(2024, 1, 29), 1, 'YEARS', 'UTC'), Date.UTC(2025, 1, 28));
    assert.equal(addUnits(Date.UTC(2026, 2, 31), -1, 'MONTHS', 'UTC'), Date.UTC(2026, 1, 28));
    assert.equal(addUnits(Date.UTC(2026, 0, 31), 14, 'MONTHS', 'UTC'), Date.UTC(2027, 2, 31));
  });

  it('marks empty month ranges counted from the start without drifting', () => {
    const start = Date.UTC(2026, 0, 31);
    const got = aggregate([[Date.UTC(2026, 3, 30), 1]], [{ name: 'gaps', sampling: { value: 1, unit: 'months' }, align_sampling: false }], { start, end: Date.UTC(2026, 4, 15) });
    assert.deepEqual(got, [[Date.UTC(2026, 0, 31), null], [Date.UTC(2026, 1, 28), null], [Date.UTC(2026, 2, 31), null], [Date.UTC(2026, 3, 30), 1]]);
  });

  it('gives rate and sampler per calendar unit from the earlier point: per month, and per day across a DST change', () => {
    const feb1 = Date.UTC(2026, 1, 1);
    const perMonth = aggregate([[feb1, 0], [feb1 + 86_400_000, 1]], [{ name: 'rate', unit: 'months' }], { start: feb1, end: feb1 + 2 * 86_400_000 });
    assert.deepEqual(perMonth, [[feb1 + 86_400_000, 28]], 'one a day in a 28-day February');
    const berlinMidnight = Date.UTC(2026, 2, 28, 23); // 2026-03-29 00:00 in Berlin, a 23-hour day
    const window = { start: berlinMidnight, end: berlinMidnight + 7_200_000 };
    const perDay = aggregate([[berlinMidnight, 0], [berlinMidnight + 3_600_000, 1]], [{ name: 'rate', unit: 'days' }], window, 'Europe/Berlin');
    assert.deepEqual(perDay, [[berlinMidnight + 3_600_000, 23]]);
    const sampler = aggregate([[berlinMidnight, 0], [berlinMidnight + 3_600_000, 1]], [{ name: 'sampler', unit: 'days' }], window, 'Europe/Berlin');
    assert.deepEqual(sampler, [[berlinMidnight + 3_600_000, 23]]);
  });

  it('percentile handles the ends of the distribution', () => {
    assert.equal(percentileOf([5, 1, 3], 1), 5);
    assert.equal(percentileOf([5, 1, 3], 0.1), 1);
  });

  it('takes a page in runs exactly as point by point, for every aggregator, in both orders (property)', () => {
    const names = ['avg', 'count', 'dev', 'first', 'last', 'least_squares', 'max', 'min', 'percentile', 'sum', 'gaps', 'diff', 'rate', 'sampler', 'div', 'scale', 'filter', 'trim', 'sma'];
    const window = { start: T, end: T + 60 * MIN };
    const run = (aggregators: object[], timestamps: Float64Array, values: Float64Array, cuts: number[] | undefined) => {
      const parsed = parseQuery({ start_absolute: window.start, end_absolute: window.end, metrics: [{ name: 'm', aggregators }] }, window.end);
      if (!parsed.ok) throw new Error(parsed.errors.join('; '));
      const out: [number, number | bigint | null][] = [];
      const sink = chain(parsed.spec.metrics[0]!.aggregators, { ...window, zone: 'UTC', now: window.end }, { push: (t, v) => void out.push([t, v]), end() {} });
      if (!cuts) for (let i = 0; i < timestamps.length; i++) sink.push(timestamps[i]!, values[i]!);
      else {
        // the page cut into runs at the given places (empty runs included)
        const at = [0, ...cuts.map((c) => Math.min(c, timestamps.length)).sort((a, b) => a - b), timestamps.length];
        for (let k = 1; k < at.length; k++) pushRun(sink, timestamps, values, at[k - 1]!, at[k]!);
      }
      sink.end();
      return out;
    };
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(fc.integer({ min: 0, max: 60 * MIN }), fc.integer({ min: 0, max: 60 }).map((m) => m * MIN)), fc.double({ min: -1e6, max: 1e6, noNaN: true })), { maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 8 }),
        fc.constantFrom(...names),
        fc.constantFrom(1, 7, 60),
        fc.boolean(),
        (points, cuts, name, minutes, descending) => {
          const sorted = points.sort((a, b) => (descending ? b[0] - a[0] : a[0] - b[0]));
          const timestamps = Float64Array.from(sorted, ([t]) => T + t);
          const values = Float64Array.from(sorted, ([, v]) => v);
          const aggregators = [{ name, sampling: { value: minutes, unit: 'minutes' }, percentile: 0.75, divisor: 2, factor: 3, size: 3, filter_op: 'gt', threshold: 0, trim: 'both', unit: 'minutes' }];
          assert.deepEqual(run(aggregators, timestamps, values, cuts), run(aggregators, timestamps, values, undefined));
        },
      ),
      { numRuns: 500 },
    );
  });
});
