import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore } from '../src/index.js';
import { AGGREGATORS } from '../src/query/aggregators.js';
import { AGGREGATOR_FEATURES, AGGREGATOR_NAMES, type FeatureProperty } from '../src/query/features.js';

const app = () => {
  const koa = new Koa();
  koa.use(kairosdb({ store: new MemoryStore() }));
  return koa.callback();
};

/** The property fields KairosDB's Gson writes for a FeaturePropertyMetadata of a plain (non-compound) property. */
const PLAIN_KEYS = ['autocomplete', 'defaultValue', 'description', 'label', 'multiline', 'name', 'optional', 'options', 'type', 'validations'];

describe('GET /features (KairosDB\'s Features API)', () => {
  it('lists group_by then aggregators, each processor with its properties sorted by label, as KairosDB serializes them (its FeaturesResourceTest)', async () => {
    const res = await request(app()).get('/api/v1/features');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.map((f: { name: string; label: string }) => [f.name, f.label]), [['group_by', 'Group By'], ['aggregators', 'Aggregator']]);
    const [groupby, aggregators] = res.body as { properties: { name: string; label: string; description: string; properties: { label: string }[] }[] }[];
    assert.deepEqual(groupby?.properties.map((p) => p.name), ['bin', 'tag', 'time', 'value']);
    for (const feature of [groupby, aggregators]) {
      const labels = feature?.properties.map((p) => p.label) ?? [];
      assert.deepEqual(labels, [...labels].sort());
      for (const processor of feature?.properties ?? []) {
        assert.deepEqual(Object.keys(processor).sort(), ['description', 'label', 'name', 'properties']);
        const own = processor.properties.map((p) => p.label);
        assert.deepEqual(own, [...own].sort(), `${processor.label}'s properties sorted by label`);
      }
    }
  });

  it("describes tag, avg, percentile, score and the sampling object in KairosDB's shape (its Features.rst and annotations)", async () => {
    const groupers = (await request(app()).get('/api/v1/features/group_by')).body;
    assert.ok(Array.isArray(groupers), 'a bare array of processors, as KairosDB answers /features/{feature}');
    const groupby = { properties: groupers };
    const tag = groupby.properties.find((p: { name: string }) => p.name === 'tag');
    assert.deepEqual(tag, {
      name: 'tag',
      label: 'Tag',
      description: 'Groups data points by tag names.',
      properties: [
        { name: 'tags', label: 'Tags', description: 'A list of tags to group by.', optional: false, type: 'array', options: [], defaultValue: '[]', autocomplete: 'tags', multiline: false, validations: [{ expression: 'value.length > 0', type: 'js', message: "Tags can't be empty." }] },
      ],
    });
    for (const g of groupby.properties) for (const p of g.properties) if (p.type !== 'Object') assert.deepEqual(Object.keys(p).sort(), PLAIN_KEYS, `${g.name}.${p.name}`);
    const aggregators = { properties: (await request(app()).get('/api/v1/features/aggregators')).body };
    assert.ok(Array.isArray(aggregators.properties));
    const avg = aggregators.properties.find((p: { name: string }) => p.name === 'avg');
    assert.deepEqual([avg.label, avg.description], ['AVG', 'Averages the data points together.']);
    assert.deepEqual(avg.properties.map((p: { name: string }) => p.name), ['align_end_time', 'align_sampling', 'align_start_time', 'sampling']);
    const sampling = avg.properties.find((p: { name: string }) => p.name === 'sampling');
    assert.deepEqual(Object.keys(sampling).sort(), ['label', 'multiline', 'name', 'optional', 'properties', 'type']);
    assert.equal(sampling.type, 'Object');
    const unit = sampling.properties.find((p: { name: string }) => p.name === 'unit');
    assert.deepEqual([unit.type, unit.options, unit.defaultValue], ['enum', ['MILLISECONDS', 'SECONDS', 'MINUTES', 'HOURS', 'DAYS', 'WEEKS', 'MONTHS', 'YEARS'], 'MILLISECONDS']);
    const alignSampling = avg.properties.find((p: { name: string }) => p.name === 'align_sampling');
    assert.deepEqual([alignSampling.type, alignSampling.defaultValue], ['boolean', 'true']);
    const percentile = aggregators.properties.find((p: { name: string }) => p.name === 'percentile');
    assert.ok(percentile.properties.some((p: { name: string; type: string }) => p.name === 'percentile' && p.type === 'double'));
    const score = aggregators.properties.find((p: { name: string }) => p.name === 'score');
    assert.deepEqual([score.label, score.properties.map((p: { name: string }) => p.name)], ['SCORE', ['order', 'thresholds']]);
  });

  it('declares exactly the aggregators the query runs (one list for parser, executor and features)', () => {
    assert.deepEqual([...AGGREGATOR_NAMES].sort(), Object.keys(AGGREGATORS).sort());
  });

  it('declares a default exactly where the parser has one: an aggregator given only its name is refused iff a parameter has none', async () => {
    const required = (p: FeatureProperty): boolean => p.defaultValue === '' || (p.type === 'Object' && (p.properties ?? []).some(required));
    for (const feature of AGGREGATOR_FEATURES) {
      const res = await request(app()).post('/api/v1/datapoints/query').send({ start_absolute: 0, end_absolute: 1000, metrics: [{ name: 'm', aggregators: [{ name: feature.name }] }] });
      const needs = feature.properties.filter(required).map((p) => p.name);
      assert.equal(res.status, needs.length > 0 ? 400 : 200, `${feature.name} (required: ${needs.join(', ') || 'none'}): ${res.text}`);
    }
  });

  it("answers 404 for 'groupby' (the documentation's spelling, not the server's)", async () => {
    const res = await request(app()).get('/api/v1/features/groupby');
    assert.deepEqual([res.status, res.body], [404, { errors: ["Unknown feature 'groupby'"] }]);
  });

  it("answers 404 Unknown feature 'x' for another name", async () => {
    const res = await request(app()).get('/api/v1/features/Rollups');
    assert.deepEqual([res.status, res.body], [404, { errors: ["Unknown feature 'rollups'"] }]);
  });
});
