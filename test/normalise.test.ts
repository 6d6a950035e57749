import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalise } from '../src/ingest/normalise.js';
import { TypeRegistry } from '../src/index.js';
import type { SeriesWrite } from '../src/store-api/contract.js';

const context = { types: new TypeRegistry(), defaultTtl: 0 };
const tags = { host: 'a' };
const summary = (s: SeriesWrite) => ({ type: s.type, ttl: s.ttl, timestamps: [...s.timestamps], values: [...s.values] });

describe('normalise', () => {
  it('splits one series by TTL when its metrics change TTL and change back', () => {
    const series = normalise([
      { name: 'm', tags, ttl: 10, datapoints: [[1, 1]] },
      { name: 'm', tags, ttl: 20, datapoints: [[2, 2]] },
      { name: 'm', tags, ttl: 10, datapoints: [[3, 3], [4, 4]] },
    ], context);
    assert.deepEqual(series?.map(summary), [
      { type: 'long', ttl: 10, timestamps: [1, 3, 4], values: [1, 3, 4] },
      { type: 'long', ttl: 20, timestamps: [2], values: [2] },
    ]);
  });

  it('fills series of a large metric with mixed types exactly (no holes, no spare length)', () => {
    const datapoints = Array.from({ length: 40 }, (_, i) => [i, i % 2 === 0 ? i : i + 0.5]);
    const series = normalise([{ name: 'm', tags, datapoints }], context);
    assert.deepEqual(series?.map(summary), [
      { type: 'long', ttl: 0, timestamps: datapoints.filter((_, i) => i % 2 === 0).map((p) => p[0]), values: datapoints.filter((_, i) => i % 2 === 0).map((p) => p[1]) },
      { type: 'double', ttl: 0, timestamps: datapoints.filter((_, i) => i % 2 === 1).map((p) => p[0]), values: datapoints.filter((_, i) => i % 2 === 1).map((p) => p[1]) },
    ]);
    for (const s of series ?? []) assert.equal(Object.keys(s.timestamps).length, s.timestamps.length, 'no holes');
  });

  it('keeps the last of duplicate timestamps and sorts, across the numeric run and the general path', () => {
    const series = normalise([{ name: 'm', tags, datapoints: [[5, 1], [3, 2], [5, 3], ['4', 4], [3, 5]] }], context);
    assert.deepEqual(series?.map(summary), [{ type: 'long', ttl: 0, timestamps: [3, 4, 5], values: [5, 4, 3] }]);
  });
});
