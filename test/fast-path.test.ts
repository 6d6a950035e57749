import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { is } from 'superstruct';
import { normalise, type SeriesBuilder } from '../src/ingest/normalise.js';
import { bodySchema } from '../src/ingest/schema.js';
import { TagSets } from '../src/ingest/tag-sets.js';
import { TypeRegistry } from '../src/index.js';
import { geoPoint } from '../example-app/geo-point.js';
import { body } from './arbitraries.js';

const types = new TypeRegistry();
types.register(geoPoint);
const { Body } = bodySchema(types);
/** One tag-set cache across all bodies, as a middleware keeps it across requests. */
const context = { types, defaultTtl: 0, tagSets: new TagSets<SeriesBuilder>() };

describe('the fast path and the superstruct schema agree', () => {
  it('accept and reject exactly the same bodies (20,000 generated, both outcomes common); accepted ones give no empty series', () => {
    let accepted = 0;
    fc.assert(
      fc.property(body, (b) => {
        const copy = structuredClone(b);
        const series = normalise(b, context);
        const fast = series !== undefined;
        assert.equal(fast, is(copy, Body), JSON.stringify(b));
        if (fast) accepted++;
        for (const s of series ?? []) {
          assert.ok(s.timestamps.length > 0, `an empty series: ${JSON.stringify(b)}`);
          assert.equal(s.values.length, s.timestamps.length);
          assert.ok(s.timestamps.every((t, i) => i === 0 || t > (s.timestamps[i - 1] as number)), 'ascending, unique timestamps');
        }
      }),
      { numRuns: 20_000, seed: 20261126 },
    );
    assert.ok(accepted > 2_000 && accepted < 18_000, `accepted ${accepted} of 20,000`);
  });

  it('accept a valid sample (so the property is not vacuous)', () => {
    const valid = [{ name: 'm', tags: { h: 'a' }, datapoints: [[1, 1], [2, 'x'], [3, { lat: 1, lon: 2 }, 'geo-point']] }];
    assert.ok(normalise(valid, context));
    assert.ok(is(valid, Body));
  });
});
