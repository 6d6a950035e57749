import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore } from '../src/index.js';

async function server() {
  const app = new Koa();
  app.use(kairosdb({ store: new MemoryStore() }));
  const callback = app.callback();
  const points = [[1, 1], [2, 2.5], [3, 3], [4, 5], [5, 10], [6, 0], [7, 2]];
  await request(callback).post('/api/v1/datapoints').send([{ name: 'm', tags: { h: 'a' }, datapoints: points }]).expect(204);
  return (metric: Record<string, unknown>) => request(callback).post('/api/v1/datapoints/query').send({ start_absolute: 0, end_absolute: 10, metrics: [{ name: 'm', ...metric }] });
}

describe("KairosDB's bin grouper and score aggregator", () => {
  it('bin: 0 below the first bound, i + 1 in [bins[i], bins[i+1]), bins.length from the last bound on, as KairosDB groups', async () => {
    const query = await server();
    const res = await query({ group_by: [{ name: 'bin', bins: [2, 4] }] });
    assert.equal(res.status, 200, res.text);
    const results = res.body.queries[0].results as { group_by: unknown[]; values: number[][] }[];
    assert.deepEqual(results.map((r) => r.values), [[[1, 1], [6, 0]], [[2, 2.5], [3, 3], [7, 2]], [[4, 5], [5, 10]]]);
    assert.deepEqual(results.map((r) => r.group_by[0]), [0, 1, 2].map((n) => ({ name: 'bin', bins: [2, 4], group: { bin_number: n } })));
  });

  it('score: each value becomes the number of thresholds below it (inferior boundaries count equal values as above), or from the top when descending', async () => {
    const query = await server();
    const thresholds = [{ value: 3, boundary: 'inferior' }, { value: 2 }];
    const ascending = await query({ aggregators: [{ name: 'score', thresholds }] });
    assert.deepEqual(ascending.body.queries[0].results[0].values, [[1, 0], [2, 1], [3, 2], [4, 2], [5, 2], [6, 0], [7, 0]]);
    const descending = await query({ aggregators: [{ name: 'score', thresholds, order: 'DESCENDING' }] });
    assert.deepEqual(descending.body.queries[0].results[0].values.map((v: number[]) => v[1]), [2, 1, 0, 0, 0, 2, 2]);
  });

  it('refuses bins that are missing, not numbers or not ascending, and score without thresholds or with a bad order', async () => {
    const query = await server();
    const errors = async (metric: Record<string, unknown>) => (await query(metric)).body.errors;
    assert.deepEqual(await errors({ group_by: [{ name: 'bin' }] }), ['query.metric[0].group_by[0].bins may not be null']);
    assert.deepEqual(await errors({ group_by: [{ name: 'bin', bins: [] }] }), ['query.metric[0].group_by[0].bins may not be empty']);
    assert.deepEqual(await errors({ group_by: [{ name: 'bin', bins: [1, 'x'] }] }), ['query.metric[0].group_by[0].bins must be an array of numbers']);
    assert.deepEqual(await errors({ group_by: [{ name: 'bin', bins: [4, 2] }] }), ['query.metric[0].group_by[0].bins must be in ascending order']);
    assert.deepEqual(await errors({ aggregators: [{ name: 'score' }] }), ['query.metric[0].aggregators[0].thresholds may not be null']);
    assert.deepEqual(await errors({ aggregators: [{ name: 'score', thresholds: [{ value: 'x', boundary: 'middle' }], order: 'up' }] }), [
      'query.metric[0].aggregators[0].thresholds[0].value must be a number',
      'query.metric[0].aggregators[0].thresholds[0].boundary must be one of superior, inferior',
      'query.metric[0].aggregators[0].order must be one of ascending, descending',
    ]);
  });
});
