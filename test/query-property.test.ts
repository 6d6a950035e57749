import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore } from '../src/index.js';
import { series } from '../src/store-api/conformance.js';

const T = Date.UTC(2026, 0, 1);
const NOW = T + 86_400_000;
const UNITS = ['milliseconds', 'seconds', 'minutes', 'hours', 'days', 'weeks', 'months', 'years', 'MINUTES', 'fortnights'];
const AGGREGATORS = ['avg', 'count', 'dev', 'first', 'gaps', 'last', 'least_squares', 'max', 'min', 'percentile', 'sum', 'diff', 'rate', 'sampler', 'div', 'scale', 'filter', 'trim', 'sma', 'nope'];

/** Mostly the valid kind, now and then the other. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<U>) => fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: other, weight: 1 });

/** Numbers from tiny to far past every range, sometimes as strings, now and then not numbers at all. */
const amount = mostly(
  fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(1, 1e6, 1e9, 1e15, 1e20, 1e300, 0.5), fc.integer({ min: 1, max: 1000 }).map(String)),
  fc.constantFrom('x', null, [], {}, 0, -1, -1e300),
);
const duration = fc.record({ value: amount, unit: mostly(fc.constantFrom(...UNITS.slice(0, -1)), fc.constant('fortnights')) });
const aggregator = fc.record(
  {
    name: mostly(fc.constantFrom(...AGGREGATORS.slice(0, -1)), fc.constant('nope')),
    sampling: duration,
    align_sampling: fc.boolean(),
    percentile: mostly(fc.constantFrom(0.5, 0.99, 1), fc.constantFrom(0, 2)),
    divisor: amount,
    factor: amount,
    size: amount,
    filter_op: fc.constantFrom('lt', 'gt', 'equal'),
    threshold: amount,
    trim: fc.constantFrom('first', 'both'),
    unit: fc.constantFrom(...UNITS),
  },
  { requiredKeys: ['name', 'divisor', 'factor', 'size', 'percentile', 'threshold'] },
);
const grouper = mostly(
  fc.oneof(
    fc.record({ name: fc.constant('tag'), tags: fc.array(fc.constantFrom('h', 'k', 'zz'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ name: fc.constant('time'), range_size: duration, group_count: amount }),
    fc.record({ name: fc.constant('value'), range_size: amount }),
  ),
  fc.record({ name: fc.constantFrom('bin', '') }),
);
const metric = fc.record(
  {
    name: mostly(fc.constantFrom('m', 'm', 'text', 'none'), fc.constant('')),
    tags: mostly(fc.dictionary(fc.constantFrom('h', 'k'), fc.oneof(fc.constantFrom('a', 'b'), fc.array(fc.constantFrom('a', 'b'), { minLength: 1, maxLength: 2 }))), fc.constant({ '': 'a' })),
    group_by: fc.array(grouper, { maxLength: 2 }),
    aggregators: fc.array(aggregator, { maxLength: 3 }),
    limit: mostly(fc.integer({ min: 0, max: 1000 }), amount),
    order: mostly(fc.constantFrom('asc', 'desc'), fc.constant('sideways')),
    exclude_tags: fc.boolean(),
  },
  { requiredKeys: ['name'] },
);
const relative = mostly(fc.record({ value: fc.integer({ min: 0, max: 48 }), unit: fc.constantFrom('hours', 'minutes', 'days') }), duration);
const start = mostly(
  fc.oneof(fc.record({ start_absolute: mostly(fc.integer({ min: T - 86_400_000, max: T + 3_600_000 }), amount) }), fc.record({ start_relative: relative })),
  fc.constant({}),
);
const end = fc.oneof(fc.record({ end_absolute: mostly(fc.integer({ min: T + 3_600_000, max: NOW + 86_400_000 }), amount) }), fc.record({ end_relative: relative }), fc.constant({}));
const query = fc
  .tuple(start, end, mostly(fc.constantFrom('UTC', 'Europe/Berlin'), fc.constant('Mars/Base')), fc.array(metric, { minLength: 1, maxLength: 3 }))
  .map(([s, e, time_zone, metrics]) => ({ ...s, ...e, time_zone, metrics }));

describe('property: whatever the query, a precise answer within the caps', () => {
  it('never 500; a 200 never answers more values than maxQueryOutputPoints nor more groups than maxQueryGroups (400 generated queries)', async () => {
    const store = new MemoryStore();
    await store.write([
      series('m', { h: 'a' }, Array.from({ length: 500 }, (_, i): [number, number] => [T + i * 150_000, (i * 7) % 23])),
      series('m', { h: 'b', k: 'x' }, Array.from({ length: 200 }, (_, i): [number, number] => [T + i * 400_000, i])),
      { metric: 'text', tags: { h: 'a' }, type: 'string', storage: 'string', ttl: 0, timestamps: [T + 1, T + 2], values: ['x', 'y'] },
    ]);
    const caps = { maxQueryOutputPoints: 600, maxQueryGroups: 20, queryTimeoutMs: 5000 };
    const app = new Koa();
    app.use(kairosdb({ store, clock: () => NOW, ...caps }));
    const api = request(app.callback());
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const res = await api.post('/api/v1/datapoints/query').send(q);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        assert.ok([200, 400].includes(res.status), `status ${res.status} for ${JSON.stringify(q)}: ${res.text.slice(0, 300)}`);
        assert.match(res.headers['content-type'] ?? '', /^application\/json/);
        if (res.status === 400) {
          assert.ok(res.body.errors.length > 0 && res.body.errors.every((e: unknown) => typeof e === 'string' && e.length > 0));
          return;
        }
        const results = res.body.queries.flatMap((x: { results: unknown[] }) => x.results) as { values: unknown[] }[];
        assert.equal(res.body.queries.length, q.metrics.length);
        assert.ok(results.length <= caps.maxQueryGroups + q.metrics.length, `${results.length} results`);
        const values = results.reduce((n, r) => n + r.values.length, 0);
        assert.ok(values <= caps.maxQueryOutputPoints, `${values} values for ${JSON.stringify(q)}`);
      }),
      { numRuns: 400, seed: 12 },
    );
    assert.ok((statuses[200] ?? 0) > 40, `only ${statuses[200] ?? 0} of 400 queries answered 200: ${JSON.stringify(statuses)}`);
    console.log(`generated queries by status: ${JSON.stringify(statuses)}`);
  });
});
