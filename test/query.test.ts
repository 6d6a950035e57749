import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore, type Store } from '../src/index.js';
import { SqliteStore } from '../src/sqlite.js';
import { CassandraStore } from '../src/cassandra.js';
import { CqlFake } from './cql-fake.js';
import { VERSION } from '../src/version.js';
import { KOAS, type KoaClass } from './helpers.js';

const T = Date.UTC(2026, 0, 5, 10);
const MIN = 60_000;
const UNITS = 'MILLISECONDS,SECONDS,MINUTES,HOURS,DAYS,WEEKS,MONTHS,YEARS';

function app(store: Store, options: object = {}, Host: KoaClass = Koa) {
  const koa = new Host();
  koa.use(kairosdb({ store, clock: () => T + 60 * MIN, ...options }));
  return request(koa.callback());
}

async function seeded(store: Store, Host: KoaClass = Koa) {
  const api = app(store, {}, Host);
  const body = [
    { name: 'cpu', tags: { host: 'a', dc: '1' }, datapoints: [[T, 1], [T + MIN, 2], [T + 5 * MIN, 3]] },
    { name: 'cpu', tags: { host: 'b', dc: '1' }, datapoints: [[T, 10], [T + 6 * MIN, 20]] },
    { name: 'cpu', tags: { host: 'c', dc: '2' }, datapoints: [[T + 2 * MIN, 100]] },
    { name: 'cpu', tags: { host: 'a', dc: '1' }, datapoints: [[T + 3 * MIN, 'down']] },
    { name: 'z', type: 'complex', tags: { host: 'a' }, datapoints: [[T, { real: 1, imaginary: 2 }]] },
  ];
  assert.equal((await api.post('/api/v1/datapoints').send(body)).status, 204);
  return api;
}

const STORES: [string, () => Store][] = [
  ['MemoryStore', () => new MemoryStore()],
  ['SqliteStore', () => new SqliteStore({ path: ':memory:' })],
  ['CassandraStore on the CQL fake', () => new CassandraStore({ client: new CqlFake(T), createSchema: true, pageSize: 2 })],
];

for (const [label, make, Host] of STORES.flatMap(([s, m]) => KOAS.map(([k, K]) => [`${s}, ${k}`, m, K] as const))) {
  describe(`read API end to end (${label})`, () => {
    it('returns raw points of every series merged in time order, type groups apart', async () => {
      const api = await seeded(make(), Host);
      const res = await api.post('/api/v1/datapoints/query').send({ start_absolute: T, end_absolute: T + 10 * MIN, metrics: [{ name: 'cpu' }] });
      assert.equal(res.status, 200);
      const [query] = res.body.queries;
      assert.equal(query.sample_size, 7);
      const number = query.results.find((r: { group_by: { type: string }[] }) => r.group_by[0]?.type === 'number');
      assert.deepEqual(number.values, [[T, 1], [T, 10], [T + MIN, 2], [T + 2 * MIN, 100], [T + 5 * MIN, 3], [T + 6 * MIN, 20]]);
      assert.deepEqual(number.tags, { dc: ['1', '2'], host: ['a', 'b', 'c'] });
      const text = query.results.find((r: { group_by: { type: string }[] }) => r.group_by[0]?.type === 'text');
      assert.deepEqual(text.values, [[T + 3 * MIN, 'down']]);
    });

    it('filters tags (OR within a tag, AND across), aggregates, orders desc and limits', async () => {
      const api = await seeded(make(), Host);
      const res = await api.post('/api/v1/datapoints/query').send({
        start_absolute: T,
        metrics: [
          { name: 'cpu', tags: { host: ['a', 'b'], dc: '1' }, aggregators: [{ name: 'sum', sampling: { value: 5, unit: 'minutes' }, align_start_time: true }] },
          { name: 'cpu', tags: { host: ['a', 'c'] }, order: 'desc', limit: 2 },
        ],
      });
      assert.equal(res.status, 200);
      const sum = res.body.queries[0].results.find((r: { group_by: { type: string }[] }) => r.group_by.at(-1)?.type === 'number');
      assert.deepEqual(sum.values, [[T, 13], [T + 5 * MIN, 23]]);
      const desc = res.body.queries[1].results.find((r: { group_by: { type: string }[] }) => r.group_by.at(-1)?.type === 'number');
      assert.deepEqual(desc.values, [[T + 5 * MIN, 3], [T + 2 * MIN, 100]]);
    });

    it('groups by tag, time and value', async () => {
      const api = await seeded(make(), Host);
      const res = await api.post('/api/v1/datapoints/query').send({
        start_absolute: T,
        metrics: [
          { name: 'cpu', group_by: [{ name: 'tag', tags: ['dc'] }] },
          { name: 'cpu', tags: { host: 'a' }, group_by: [{ name: 'time', range_size: { value: '5', unit: 'MINUTES' }, group_count: '2' }] },
          { name: 'cpu', group_by: [{ name: 'value', range_size: 10 }] },
        ],
      });
      assert.equal(res.status, 200);
      const [byTag, byTime, byValue] = res.body.queries;
      const numbers = (q: { results: { group_by: { name: string; type?: string }[] }[] }) => q.results.filter((r) => r.group_by.at(-1)?.type === 'number');
      assert.deepEqual(numbers(byTag).map((r: any) => [r.group_by[0], r.values.length]), [
        [{ name: 'tag', tags: ['dc'], group: { dc: '1' } }, 5],
        [{ name: 'tag', tags: ['dc'], group: { dc: '2' } }, 1],
      ]);
      assert.deepEqual(numbers(byTime)[0]?.group_by[0], { name: 'time', range_size: { value: 5, unit: 'MINUTES' }, group_count: 2, group: { group_number: 0 } });
      assert.deepEqual(numbers(byTime).map((r: any) => [r.group_by[0].group, r.group_by[0].group_count, r.values]), [
        [{ group_number: 0 }, 2, [[T, 1], [T + MIN, 2]]],
        [{ group_number: 1 }, 2, [[T + 5 * MIN, 3]]],
      ]);
      assert.deepEqual(numbers(byValue).map((r: any) => [r.group_by[0].group.group_number, r.values.map((v: number[]) => v[1])]), [
        [0, [1, 2, 3]],
        [1, [10]],
        [2, [20]],
        [10, [100]],
      ]);
    });

    it('decodes complex values and answers tags, metric names, delete and delete metric', async () => {
      const store = make();
      const api = await seeded(store, Host);
      const complex = await api.post('/api/v1/datapoints/query').send({ start_absolute: T, metrics: [{ name: 'z' }] });
      assert.deepEqual(complex.body.queries[0].results[0].values, [[T, { real: 1, imaginary: 2 }]]);
      assert.deepEqual(complex.body.queries[0].results[0].group_by, [{ name: 'type', type: 'complex' }]);

      const tags = await api.post('/api/v1/datapoints/query/tags').send({ start_absolute: 0, metrics: [{ name: 'cpu', tags: { dc: '2' } }, { name: 'none' }] });
      assert.deepEqual(tags.body, { queries: [{ results: [{ name: 'cpu', tags: { dc: ['2'], host: ['c'] }, values: [] }] }, { results: [{ name: 'none', tags: {}, values: [] }] }] });

      assert.deepEqual((await api.get('/api/v1/metricnames')).body, { results: ['cpu', 'z'] });
      assert.deepEqual((await api.get('/api/v1/metricnames?prefix=c')).body, { results: ['cpu'] });

      const del = await api.post('/api/v1/datapoints/delete').send({ start_absolute: T, end_absolute: T + 2 * MIN, metrics: [{ name: 'cpu', tags: { host: 'a' } }] });
      assert.equal(del.status, 204);
      const after = await api.post('/api/v1/datapoints/query').send({ start_absolute: T, metrics: [{ name: 'cpu', tags: { host: 'a' } }] });
      assert.deepEqual(after.body.queries[0].results.flatMap((r: { values: unknown[] }) => r.values), [[T + 5 * MIN, 3], [T + 3 * MIN, 'down']]);

      assert.equal((await api.delete('/api/v1/metric/z').set('Content-Type', 'application/json').send({})).status, 204);
      assert.deepEqual((await api.get('/api/v1/metricnames')).body, { results: ['cpu'] });
    });
  });
}

describe('read API details', () => {
  it('answers an empty result without group_by for a metric without data, with a JSON content type', async () => {
    const res = await app(new MemoryStore()).get(`/api/v1/datapoints/query?query=${encodeURIComponent(JSON.stringify({ start_relative: { value: 1, unit: 'hours' }, metrics: [{ name: 'x' }] }))}`);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(res.body, { queries: [{ sample_size: 0, results: [{ name: 'x', tags: {}, values: [] }] }] });
  });

  it('reads every point after start_absolute without an end, future ones included (KairosDB: Long.MAX_VALUE), and deletes them so', async () => {
    const store = new MemoryStore();
    const api = app(store);
    const now = T + 60 * MIN; // the mount's clock
    const future = now + 86_400_000;
    await api.post('/api/v1/datapoints').send([{ name: 'f', tags: { h: 'x' }, datapoints: [[now - 1000, 1], [future, 2]] }]).expect(204);
    const read = await api.post('/api/v1/datapoints/query').send({ start_absolute: now - 60_000, metrics: [{ name: 'f' }] });
    assert.deepEqual(read.body.queries[0].results[0].values, [[now - 1000, 1], [future, 2]]);
    const untilNow = await api.post('/api/v1/datapoints/query').send({ start_absolute: now - 60_000, end_relative: { value: 0, unit: 'seconds' }, metrics: [{ name: 'f' }] });
    assert.deepEqual(untilNow.body.queries[0].results[0].values, [[now - 1000, 1]], 'an end given still bounds it');
    const gaps = await api.post('/api/v1/datapoints/query').send({ start_absolute: now - 60_000, metrics: [{ name: 'f', aggregators: [{ name: 'gaps', sampling: { value: 1, unit: 'minutes' } }] }] });
    assert.equal(gaps.status, 200, 'gaps stops at now without an end, as before');
    await api.post('/api/v1/datapoints/delete').send({ start_absolute: now - 500, metrics: [{ name: 'f' }] }).expect(204);
    const left = await api.post('/api/v1/datapoints/query').send({ start_absolute: 0, metrics: [{ name: 'f' }] });
    assert.deepEqual(left.body.queries[0].results[0].values, [[now - 1000, 1]], 'the delete took the future point too');
  });

  it('groups a series without a grouped tag under "" for it, as KairosDB answers ({"host": ""})', async () => {
    const api = app(new MemoryStore());
    await api.post('/api/v1/datapoints').send([{ name: 'g', tags: { host: 'a' }, timestamp: T, value: 1 }, { name: 'g', tags: { dc: 'x' }, timestamp: T, value: 2 }]).expect(204);
    const res = await api.post('/api/v1/datapoints/query').send({ start_absolute: 0, metrics: [{ name: 'g', group_by: [{ name: 'tag', tags: ['host'] }] }] });
    const groups = res.body.queries[0].results.map((r: { group_by: { name: string; group?: unknown }[]; values: unknown }) => [r.group_by.find((g) => g.name === 'tag')?.group, r.values]);
    assert.deepEqual(groups, [[{ host: '' }, [[T, 2]]], [{ host: 'a' }, [[T, 1]]]]);
  });

  it('deletes a metric whose name is URL-encoded', async () => {
    const store = new MemoryStore();
    const api = app(store);
    await api.post('/api/v1/datapoints').send([{ name: 'a b/c', tags: { h: 'x' }, timestamp: T, value: 1 }]);
    assert.equal((await api.delete(`/api/v1/metric/${encodeURIComponent('a b/c')}`)).status, 204);
    assert.deepEqual(await store.metricNames(), []);
  });

  it('reports its version and health', async () => {
    const api = app(new MemoryStore());
    assert.deepEqual((await api.get('/api/v1/version')).body, { version: `koa-kairosdb ${VERSION}` });
    assert.equal(VERSION, JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
    assert.equal((await api.get('/api/v1/health/check')).status, 204);
    assert.deepEqual((await api.get('/api/v1/health/status')).body, ['Datastore-Query: OK']);
    const closed = new MemoryStore();
    await closed.close();
    assert.equal((await app(closed).get('/api/v1/health/check')).status, 503);
  });

  it('answers 503 to a health check when the store hangs past writeTimeoutMs', async () => {
    const hanging = Object.assign(new MemoryStore(), { ping: () => new Promise<void>(() => {}) });
    const res = await app(hanging, { writeTimeoutMs: 50 }).get('/api/v1/health/check');
    assert.equal(res.status, 503);
  });

  it('sizes a yearly time grouper by the year, not by a month', async () => {
    const api = app(new MemoryStore());
    const jan = Date.UTC(2026, 0, 10);
    const feb = Date.UTC(2026, 1, 10);
    await api.post('/api/v1/datapoints').send([{ name: 'y', tags: { h: 'a' }, datapoints: [[jan, 1], [feb, 2]] }]);
    const res = await api.post('/api/v1/datapoints/query').send({
      start_absolute: Date.UTC(2026, 0, 1),
      end_absolute: Date.UTC(2026, 5, 1),
      metrics: [{ name: 'y', group_by: [{ name: 'time', range_size: { value: 1, unit: 'years' }, group_count: 2 }] }],
    });
    assert.deepEqual(res.body.queries[0].results.map((r: any) => [r.group_by[0].group.group_number, r.values]), [[0, [[jan, 1], [feb, 2]]]]);
  });

  it('counts a monthly time grouper in calendar months', async () => {
    const api = app(new MemoryStore());
    const [jan31, mar1, mar31] = [Date.UTC(2026, 0, 31), Date.UTC(2026, 2, 1), Date.UTC(2026, 2, 31)];
    await api.post('/api/v1/datapoints').send([{ name: 'mo', tags: { h: 'a' }, datapoints: [[jan31, 1], [mar1, 2], [mar31, 3]] }]);
    const res = await api.post('/api/v1/datapoints/query').send({
      start_absolute: Date.UTC(2026, 0, 1),
      end_absolute: Date.UTC(2026, 5, 1),
      metrics: [{ name: 'mo', group_by: [{ name: 'time', range_size: { value: 1, unit: 'months' }, group_count: 12 }] }],
    });
    const groups = res.body.queries[0].results.map((r: any) => [r.group_by[0].group.group_number, r.values]);
    assert.deepEqual(groups, [[0, [[jan31, 1]]], [2, [[mar1, 2], [mar31, 3]]]]);
  });

  it('mounts only the route groups asked for', async () => {
    const koa = new Koa();
    koa.use(kairosdb({ store: new MemoryStore(), routes: { query: false, delete: false, metadata: false, health: false } }));
    koa.use((ctx) => void (ctx.body = 'host'));
    const api = request(koa.callback());
    assert.equal((await api.post('/api/v1/datapoints/query').send({})).text, 'host');
    assert.equal((await api.get('/api/v1/version')).text, 'host');
    assert.equal((await api.post('/api/v1/datapoints').send([])).status, 204);
  });

  it('refuses a query that reads more raw points than maxQueryPoints', async () => {
    const api = app(new MemoryStore(), { maxQueryPoints: 5 });
    await api.post('/api/v1/datapoints').send([{ name: 'm', tags: { h: 'a' }, datapoints: Array.from({ length: 10 }, (_, i) => [T + i, i]) }]);
    const res = await api.post('/api/v1/datapoints/query').send({ start_absolute: T, metrics: [{ name: 'm' }] });
    assert.equal(res.status, 400);
    assert.match(res.body.errors[0], /reads more than 5 data points/);
  });

  it('replays a Grafana KairosDB data source query', async () => {
    const api = app(new MemoryStore());
    const body = ['web1', 'web2'].map((host, h) => ({ name: 'sys.cpu', tags: { host }, datapoints: Array.from({ length: 60 }, (_, i) => [T + i * MIN, h * 100 + i]) }));
    await api.post('/api/v1/datapoints').send(body);
    const grafana = {
      start_relative: { value: '1', unit: 'hours' },
      metrics: [
        {
          name: 'sys.cpu',
          tags: { host: ['web1', 'web2'] },
          group_by: [{ name: 'tag', tags: ['host'] }],
          aggregators: [{ name: 'avg', align_sampling: true, sampling: { value: '10', unit: 'minutes' } }],
        },
      ],
      cache_time: 0,
    };
    const res = await api.post('/api/v1/datapoints/query').set('Content-Type', 'application/json').send(grafana);
    assert.equal(res.status, 200);
    const { results } = res.body.queries[0];
    assert.equal(res.body.queries[0].sample_size, 120);
    assert.deepEqual(results.map((r: any) => r.group_by), [
      [{ name: 'tag', tags: ['host'], group: { host: 'web1' } }, { name: 'type', type: 'number' }],
      [{ name: 'tag', tags: ['host'], group: { host: 'web2' } }, { name: 'type', type: 'number' }],
    ]);
    assert.deepEqual(results[0].values.slice(0, 2), [[T, 4.5], [T + 10 * MIN, 14.5]]);
    assert.equal(results[1].values.length, 6);
    assert.deepEqual(results[1].tags, { host: ['web2'] });
  });
});

/** SPEC §2.4: query → the exact error list. */
const INVALID: [string, object, string[]][] = [
  ['no metrics', { start_absolute: 1, metrics: [] }, ['query.metric[] must have a size of at least 1']],
  ['no metrics and no time range: only the metrics message, as KairosDB', { metrics: [] }, ['query.metric[] must have a size of at least 1']],
  ['no name', { start_absolute: 1, metrics: [{ name: '' }] }, ['query.metric[0].name may not be empty']],
  ['no start', { metrics: [{ name: 'm' }] }, ['query.metric[0].start_time relative or absolute time must be set']],
  ['end before start', { start_absolute: 10, end_absolute: 5, metrics: [{ name: 'm' }] }, ['query.metric[0].end_time must be greater than the start time']],
  ['negative relative start', { start_relative: { value: -1, unit: 'days' }, metrics: [{ name: 'm' }] }, ['start_relative.value must be greater than or equal to 0']],
  ['negative relative end', { start_absolute: 1, end_relative: { value: -1, unit: 'days' }, metrics: [{ name: 'm' }] }, ['end_relative.value must be greater than or equal to 0']],
  ['negative cache_time', { start_absolute: 1, cache_time: -1, metrics: [{ name: 'm' }] }, ['cache_time must be greater than or equal to 0']],
  ['bad relative unit', { start_relative: { value: 1, unit: 'fortnights' }, metrics: [{ name: 'm' }] }, [`query.fortnights is not a valid time unit, must be one of ${UNITS}`]],
  ['empty tag name', { start_absolute: 1, metrics: [{ name: 'm', tags: { '': ['a'] } }] }, ['query.metric[0].tags[0] name must not be empty']],
  ['empty tag value in a list', { start_absolute: 1, metrics: [{ name: 'm', tags: { host: ['a', ''] } }] }, ['query.metric[0].tags[0].host value must not be null or empty']],
  ['aggregator without name', { start_absolute: 1, metrics: [{ name: 'm', aggregators: [{}] }] }, ['query.metric[0].aggregators[0] must have a name']],
  ['unknown aggregator', { start_absolute: 1, metrics: [{ name: 'm', aggregators: [{ name: 'save_as_not' }] }] }, ['query.metric[0].aggregators[0].save_as_not invalid aggregators name']],
  ['negative sampling', { start_absolute: 1, metrics: [{ name: 'm', aggregators: [{ name: 'sum', sampling: { value: -1, unit: 'minutes' } }] }] }, ['query.metric[0].aggregators[0].sampling.value must be greater than or equal to 0']],
  ['bad sampling unit', { start_absolute: 1, metrics: [{ name: 'm', aggregators: [{ name: 'sum', sampling: { value: 1, unit: 'eons' } }] }] }, [`query.metric[0].aggregators[0].eons is not a valid time unit, must be one of ${UNITS}`]],
  ['div without divisor', { start_absolute: 1, metrics: [{ name: 'm', aggregators: [{ name: 'div' }] }] }, ['query.metric[0].aggregators[0].divisor may not be zero']],
  ['percentile missing', { start_absolute: 1, metrics: [{ name: 'm', aggregators: [{ name: 'percentile' }] }] }, ['query.metric[0].aggregators[0].percentile may not be zero']],
  ['percentile not a number', { start_absolute: 1, metrics: [{ name: 'm', aggregators: [{ name: 'percentile', percentile: 'half' }] }] }, ['query.metric[0].aggregators[0].percentile must be a number']],
  ['grouper without name', { start_absolute: 1, metrics: [{ name: 'm', group_by: [{}] }] }, ['query.metric[0].group_by[0] must have a name']],
  ['unknown grouper', { start_absolute: 1, metrics: [{ name: 'm', group_by: [{ name: 'bogus' }] }] }, ['query.metric[0].group_by[0].bogus invalid group_by name']],
  ['tag grouper without tags', { start_absolute: 1, metrics: [{ name: 'm', group_by: [{ name: 'tag' }] }] }, ['query.metric[0].group_by[0].tags may not be null']],
  ['tag grouper with no tags', { start_absolute: 1, metrics: [{ name: 'm', group_by: [{ name: 'tag', tags: [] }] }] }, ['query.metric[0].group_by[0].tags may not be empty']],
  ['time grouper without range', { start_absolute: 1, metrics: [{ name: 'm', group_by: [{ name: 'time', group_count: 2 }] }] }, ['query.metric[0].group_by[0].range_size may not be null']],
  ['time grouper negative range', { start_absolute: 1, metrics: [{ name: 'm', group_by: [{ name: 'time', range_size: { value: -1, unit: 'hours' }, group_count: 2 }] }] }, ['query.metric[0].group_by[0].range_size.value must be greater than or equal to 0']],
  ['time grouper bad unit', { start_absolute: 1, metrics: [{ name: 'm', group_by: [{ name: 'time', range_size: { value: 1, unit: 'x' }, group_count: 2 }] }] }, [`query.metric[0].group_by[0].x is not a valid time unit, must be one of ${UNITS}`]],
  ['time grouper without count', { start_absolute: 1, metrics: [{ name: 'm', group_by: [{ name: 'time', range_size: { value: 1, unit: 'hours' } }] }] }, ['query.metric[0].group_by[0].group_count must be greater than or equal to 1']],
  ['unknown time zone', { start_absolute: 1, time_zone: 'Mars/Olympus', metrics: [{ name: 'm' }] }, ["query.time_zone 'Mars/Olympus' is not a valid time zone"]],
];

describe('query errors (SPEC §2.4)', () => {
  for (const [title, body, errors] of INVALID) {
    it(`${title} → 400`, async () => {
      const res = await app(new MemoryStore()).post('/api/v1/datapoints/query').send(body);
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.errors, errors);
    });
  }

  it('malformed JSON → one message starting "Invalid json."', async () => {
    const res = await app(new MemoryStore()).post('/api/v1/datapoints/query').set('Content-Type', 'application/json').send('{"metrics": [');
    assert.equal(res.status, 400);
    assert.equal(res.body.errors.length, 1);
    assert.match(res.body.errors[0], /^Invalid json\./);
  });

  it('accepts what real clients send: empty lists, numbers as strings, any unit case, plain tag strings', async () => {
    const res = await app(new MemoryStore()).post('/api/v1/datapoints/query').send({
      start_absolute: 1,
      cache_time: 0,
      metrics: [{ name: 'm', group_by: [], aggregators: [], tags: {}, limit: 0 }, { name: 'n', tags: { host: 'a' }, aggregators: [{ name: 'percentile', percentile: '0.5', sampling: { value: '5', unit: 'MINUTES' } }] }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
});
