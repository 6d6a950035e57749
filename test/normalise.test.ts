import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalise, normaliseInTurns, type SeriesBuilder } from '../src/ingest/normalise.js';
import { TagSets } from '../src/ingest/tag-sets.js';
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

describe('normaliseInTurns', () => {
  /** 1,000 metrics over 300 series (each series' points spread over several stretches), 3 points each. */
  const body = (base: number) => Array.from({ length: 1000 }, (_, i) => ({ name: `m${i % 3}`, tags: { host: `h${i % 100}` }, datapoints: [[base + i, i], [base + i + 1000, i], [base + i + 2000, i * 0.5]] }));
  const sorted = (series: SeriesWrite[] | undefined) => (series ?? []).map((s) => ({ metric: s.metric, tags: { ...s.tags }, ...summary(s) })).sort((a, b) => `${a.metric}${a.tags.host}${a.type}`.localeCompare(`${b.metric}${b.tags.host}${b.type}`));

  it('asks for a turn every 256 metrics, awaits what it is given, and gives what normalise gives', async () => {
    let asked = 0;
    let turns = 0;
    const pause = () => (++asked % 2 === 0 ? new Promise<void>((resolve) => setImmediate(() => resolve(void turns++))) : undefined);
    const inTurns = await normaliseInTurns(body(0), context, pause);
    assert.equal(asked, 3, '1,000 metrics: asked after 256, 512 and 768');
    assert.equal(turns, 1);
    assert.deepEqual(sorted(inTurns), sorted(normalise(body(0), context)));
    assert.equal(inTurns?.length, 450, 'each series once (300 long; the 150 with odd indexes double too), its points from every stretch');
  });

  it('holds the kept tag sets until it ends: a body normalised meanwhile takes new ones, and neither is mixed up', async () => {
    const shared = { ...context, tagSets: new TagSets<SeriesBuilder>() };
    // Seen in an earlier request, so that the sets are kept and shared between the bodies below.
    normalise(body(0), shared);
    normalise(body(0), shared);
    let other: SeriesWrite[] | undefined;
    let otherInTurns: SeriesWrite[] | undefined;
    const pause = () => (other === undefined ? (async () => {
      other = normalise(body(10_000), shared);
      otherInTurns = await normaliseInTurns(body(20_000), shared, () => undefined);
    })() : undefined);
    const first = await normaliseInTurns(body(0), shared, pause);
    assert.deepEqual(sorted(first), sorted(normalise(body(0), context)));
    assert.deepEqual(sorted(other), sorted(normalise(body(10_000), context)));
    assert.deepEqual(sorted(otherInTurns), sorted(normalise(body(20_000), context)));
    assert.equal(shared.tagSets.busy, false, 'let go at the end');
    assert.ok(shared.tagSets.size > 0, 'the kept sets are still kept');
  });
});
