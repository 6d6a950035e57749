// The save_as aggregator through the mount, on any store (memory and SQLite in test/save-as.test.ts, the real
// Cassandra node in test/integration/cassandra.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, type KairosdbOptions, type Store } from '../src/index.js';
import { readAll } from '../src/store-api/conformance.js';
import { wrapStore } from './helpers.js';

const T = Date.UTC(2024, 0, 1);
const MIN = 60_000;

export function saveAsSuite(label: string, create: () => Promise<Store> | Store): void {
  describe(`save_as (${label})`, () => {
    const serve = async (options: Partial<KairosdbOptions> = {}) => {
      const store = options.store ?? (await create());
      const app = new Koa();
      app.use(kairosdb({ ...options, store }));
      const agent = request(app.callback());
      const seed = async (metric: string) => {
        const res = await agent.post('/api/v1/datapoints').send([
          { name: metric, tags: { host: 'a', dc: 'x' }, datapoints: [[T, 1], [T + 10_000, 2], [T + MIN, 5]] },
          { name: metric, tags: { host: 'b', dc: 'x' }, datapoints: [[T, 10], [T + MIN + 1, 20]] },
          { name: metric, tags: { host: 'c', dc: 'x' }, type: 'string', datapoints: [[T, 'up']] },
        ]);
        assert.equal(res.status, 204, res.text);
      };
      const query = (metric: Record<string, unknown>) => agent.post('/api/v1/datapoints/query').send({ start_absolute: T - 1, end_absolute: T + 10 * MIN, metrics: [metric] });
      return { store, agent, seed, query };
    };

    it('saves the result at its place in the chain, with saved_from and the grouped tags, and answers it too', async () => {
      const { store, seed, query } = await serve();
      await seed('sa.in');
      const res = await query({
        name: 'sa.in',
        tags: { host: ['a', 'b'] },
        group_by: [{ name: 'tag', tags: ['host'] }],
        aggregators: [{ name: 'sum', sampling: { value: 1, unit: 'minutes' }, align_start_time: true }, { name: 'save_as', metric_name: 'sa.out', tags: { kind: 'rollup' } }, { name: 'scale', factor: 2 }],
      });
      assert.equal(res.status, 200, res.text);
      // The answer goes on through the stages after save_as.
      assert.deepEqual(res.body.queries[0].results.map((r: { values: unknown }) => r.values), [[[T, 6], [T + MIN, 10]], [[T, 20], [T + MIN, 40]]]);
      const saved = await readAll(store, { metric: 'sa.out' });
      assert.deepEqual(
        saved.map((s) => [s.tags, s.points]),
        [
          [{ host: 'a', kind: 'rollup', saved_from: 'sa.in' }, [[T, 3], [T + MIN, 5]]],
          [{ host: 'b', kind: 'rollup', saved_from: 'sa.in' }, [[T, 10], [T + MIN, 20]]],
        ],
      );
    });

    it('a grouped tag with several values in the result is not a tag of the saved series; add_saved_from false leaves saved_from out', async () => {
      const { store, seed, query } = await serve();
      await seed('sa.in2');
      const res = await query({ name: 'sa.in2', tags: { host: ['a', 'b'] }, group_by: [{ name: 'tag', tags: ['dc'] }], aggregators: [{ name: 'max', sampling: { value: 1, unit: 'hours' }, align_sampling: true }, { name: 'save_as', metric_name: 'sa.out2', add_saved_from: false }] });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual((await readAll(store, { metric: 'sa.out2' })).map((s) => [s.tags, s.points]), [[{ dc: 'x' }, [[T, 20]]]]);
    });

    it('a saved series without any tag gets add=tag (KairosDB saves nothing then)', async () => {
      const { store, seed, query } = await serve();
      await seed('sa.in3');
      const res = await query({ name: 'sa.in3', tags: { host: ['a'] }, aggregators: [{ name: 'save_as', metric_name: 'sa.out3', add_saved_from: false }] });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual((await readAll(store, { metric: 'sa.out3' })).map((s) => [s.tags, s.points.length]), [[{ add: 'tag' }, 3]]);
    });

    it('text points are saved as they are, with their type; ttl is the saved points\' TTL', async () => {
      const inner = await create();
      const ttls: number[] = [];
      const store = wrapStore(inner, { write: async (series: { metric: string; ttl: number }[]) => (series.forEach((s) => s.metric === 'sa.out4' && ttls.push(s.ttl)), inner.write(series as never)) });
      const { seed, query } = await serve({ store });
      await seed('sa.in4');
      const res = await query({ name: 'sa.in4', tags: { host: ['c'] }, aggregators: [{ name: 'save_as', metric_name: 'sa.out4', ttl: 3600 }] });
      assert.equal(res.status, 200, res.text);
      const [saved] = await readAll(store, { metric: 'sa.out4' });
      assert.deepEqual([saved?.type, saved?.tags, saved?.points, ttls], ['string', { saved_from: 'sa.in4' }, [[T, 'up']], [3600]]);
    });

    it('answers 400 without metric_name, with a bad ttl or tags, and saves nothing', async () => {
      const { store, seed, query } = await serve();
      await seed('sa.in5');
      const cases: [Record<string, unknown>, string][] = [
        [{ name: 'save_as' }, 'query.metric[0].aggregators[0].metric_name may not be empty'],
        [{ name: 'save_as', metric_name: ' ' }, 'query.metric[0].aggregators[0].metric_name may not be empty'],
        [{ name: 'save_as', metric_name: 'x', ttl: -1 }, 'query.metric[0].aggregators[0].ttl must be greater than or equal to 0'],
        [{ name: 'save_as', metric_name: 'x', tags: { a: '' } }, 'query.metric[0].aggregators[0].tags.a value must not be null or empty'],
        [{ name: 'save_as', metric_name: 'x', tags: 'a' }, 'query.metric[0].aggregators[0].tags must be an object'],
      ];
      for (const [aggregator, message] of cases) {
        const res = await query({ name: 'sa.in5', aggregators: [aggregator] });
        assert.deepEqual([res.status, res.body], [400, { errors: [message] }], JSON.stringify(aggregator));
      }
      assert.deepEqual(await readAll(store, { metric: 'x' }), []);
    });

    it('a failed write of the saved points answers 5xx, never the result', async () => {
      const inner = await create();
      const store = wrapStore(inner, { write: async (series: { metric: string }[]) => (series.some((s) => s.metric === 'sa.out6') ? Promise.reject(new Error('disk full')) : inner.write(series as never)) });
      const { seed, query } = await serve({ store, logger: { error() {}, warn() {}, info() {}, debug() {} } as never });
      await seed('sa.in6');
      const res = await query({ name: 'sa.in6', aggregators: [{ name: 'save_as', metric_name: 'sa.out6' }] });
      assert.ok(res.status >= 500, `${res.status} ${res.text}`);
      assert.ok(!('queries' in res.body), res.text);
    });

    it('the saved points count against maxQueryOutputPoints', async () => {
      const { store, seed, query } = await serve({ maxQueryOutputPoints: 4 });
      await seed('sa.in7');
      const res = await query({ name: 'sa.in7', tags: { host: ['a'] }, aggregators: [{ name: 'save_as', metric_name: 'sa.out7' }] });
      assert.equal(res.status, 400, res.text);
      assert.deepEqual(await readAll(store, { metric: 'sa.out7' }), []);
    });

    it('asks authorize for a write naming save_as, and a tenant-bound mount saves under its tenant', async () => {
      const actions: string[] = [];
      const { store, agent, seed } = await serve({
        tenant: () => 't1',
        authorize: (_ctx, action) => {
          actions.push(action.action === 'write' ? `write ${action.protocol ?? 'json'} ${action.series.map((s) => s.metric).join(',')}` : action.action);
          return !(action.action === 'write' && action.protocol === 'save_as' && action.series.some((s) => s.metric === 'sa.denied'));
        },
      });
      await seed('sa.in8');
      const ok = await agent.post('/api/v1/datapoints/query').send({ start_absolute: T - 1, end_absolute: T + 10 * MIN, metrics: [{ name: 'sa.in8', tags: { host: ['a'] }, aggregators: [{ name: 'save_as', metric_name: 'sa.out8' }] }] });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual((await readAll(store, { metric: 'sa.out8' })).map((s) => s.tags), [{ saved_from: 'sa.in8', tenant: 't1' }]);
      const denied = await agent.post('/api/v1/datapoints/query').send({ start_absolute: T - 1, end_absolute: T + 10 * MIN, metrics: [{ name: 'sa.in8', aggregators: [{ name: 'save_as', metric_name: 'sa.denied' }] }] });
      assert.equal(denied.status, 403, denied.text);
      assert.deepEqual(await readAll(store, { metric: 'sa.denied' }), []);
      assert.ok(actions.includes('write save_as sa.out8'), actions.join('; '));
    });
  });
}
