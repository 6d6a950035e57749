import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { KOAS, mount } from './helpers.js';

const seed = readFileSync(new URL('./fixtures/seed-example-body.json', import.meta.url), 'utf8');
const tags = { host: 'a' };
const complex = (real: number, imaginary: number) => {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setFloat64(0, real);
  new DataView(bytes.buffer).setFloat64(8, imaginary);
  return bytes;
};

/** SPEC §1.3–1.4 accepted bodies: body → what the store holds for metric `m` (tags, type, points). */
const ACCEPTED: [string, unknown, { tags: Record<string, string>; type: string; points: [number, unknown][] }[]][] = [
  ['a single metric object', { name: 'm', tags, timestamp: 1, value: 2 }, [{ tags, type: 'long', points: [[1, 2]] }]],
  ['integers are long, fractions double', [{ name: 'm', tags, datapoints: [[1, 2], [2, 2.5]] }], [
    { tags, type: 'double', points: [[2, 2.5]] },
    { tags, type: 'long', points: [[1, 2]] },
  ]],
  ['timestamps given as integer literal strings, as Long.parseLong reads them', [{ name: 'm', tags, datapoints: [['1234', 1], ['-5', 2], ['+7', 3]] }], [
    { tags, type: 'long', points: [[-5, 2], [7, 3], [1234, 1]] },
  ]],
  ['numeric strings are long or double', [{ name: 'm', tags, datapoints: [[1, '123'], [2, '-5'], [3, '+5'], [4, '12.5'], [5, '.5']] }], [
    { tags, type: 'double', points: [[4, 12.5], [5, 0.5]] },
    { tags, type: 'long', points: [[1, 123], [2, -5], [3, 5]] },
  ]],
  ['other strings and booleans are string points', [{ name: 'm', tags, datapoints: [[1, 'up'], [2, true], [3, false]] }], [
    { tags, type: 'string', points: [[1, 'up'], [2, 'true'], [3, 'false']] },
  ]],
  ['type string keeps "" and numbers as text', [{ name: 'm', tags, type: 'string', datapoints: [[1, ''], [2, 5]] }], [
    { tags, type: 'string', points: [[1, ''], [2, '5']] },
  ]],
  ['a datapoint type overrides the metric type', [{ name: 'm', tags, type: 'string', datapoints: [[1, 5, 'double']] }], [
    { tags, type: 'double', points: [[1, 5]] },
  ]],
  ['complex alias with numeric strings', [{ name: 'm', tags, type: 'complex', datapoints: [[1, { real: '1.5', imaginary: -2 }]] }], [
    { tags, type: 'complex-number', points: [[1, complex(1.5, -2)]] },
  ]],
  ['time wins over timestamp, numeric strings and fractions truncate toward zero', [
    { name: 'm', tags, time: 10, timestamp: 99, value: 1 },
    { name: 'm', tags, datapoints: [['20', 2], [30.9, 3], [-40.9, 4], [0, 5]] },
  ], [{ tags, type: 'long', points: [[-40, 4], [0, 5], [10, 1], [20, 2], [30, 3]] }]],
  ['a number name and number or boolean tag values become strings', [{ name: 7, tags: { n: 1, b: true }, timestamp: 1, value: 1 }], []],
  ['within one request the later duplicate wins', [
    { name: 'm', tags, datapoints: [[1, 1], [2, 2], [1, 10]] },
    { name: 'm', tags, datapoints: [[2, 20]] },
  ], [{ tags, type: 'long', points: [[1, 10], [2, 20]] }]],
  ['tag order does not make another series', [
    { name: 'm', tags: { a: '1', b: '2' }, datapoints: [[1, 1]] },
    { name: 'm', tags: { b: '2', a: '1' }, datapoints: [[2, 2]] },
  ], [{ tags: { a: '1', b: '2' }, type: 'long', points: [[1, 1], [2, 2]] }]],
  ['a value and datapoints together', [{ name: 'm', tags, timestamp: 5, value: 5, datapoints: [[1, 1]] }], [
    { tags, type: 'long', points: [[1, 1], [5, 5]] },
  ]],
  ['a metric without points writes nothing', [{ name: 'm', tags }], []],
  ['unknown fields are ignored', [{ name: 'm', tags, timestamp: 1, value: 1, extra: { deep: [1] } }], [
    { tags, type: 'long', points: [[1, 1]] },
  ]],
  ['__proto__ and constructor are ordinary tags', JSON.parse('[{"name":"m","tags":{"__proto__":"p","constructor":"c"},"timestamp":1,"value":1}]'), [
    { tags: JSON.parse('{"__proto__":"p","constructor":"c"}'), type: 'long', points: [[1, 1]] },
  ]],
];

for (const [label, Koa] of KOAS) {
  describe(`POST /datapoints stores valid bodies (${label})`, () => {
    it('stores the seed example body exactly', async () => {
      const { post, read } = mount(Koa);
      const res = await post(seed, { 'Content-Type': 'application/json' });
      assert.equal(res.status, 204);
      assert.equal(res.text, '');
      const both = { data_center: 'DC1', host: 'server1' };
      assert.deepEqual(await read('archive_file_tracked'), [
        { tags: both, type: 'double', storage: 'double', points: [[1359788300000, 13.2], [1359788410000, 23.1]] },
        { tags: both, type: 'long', storage: 'long', points: [[1359788400000, 123]] },
      ]);
      assert.deepEqual(await read('impedance'), [
        { tags: both, type: 'complex-number', storage: 'bytes', points: [[1359788300000, complex(1.1, 5)], [1359788400000, complex(2.3, 3.4)]] },
      ]);
      assert.deepEqual(await read('archive_file_search'), [
        { tags: { host: 'server2' }, type: 'long', storage: 'long', points: [[1359786400000, 321]] },
      ]);
    });

    it('answers 204 to [] and writes nothing', async () => {
      const { post, store } = mount(Koa);
      assert.equal((await post('[]', { 'Content-Type': 'application/json' })).status, 204);
      assert.deepEqual(await store.metricNames(), []);
    });

    for (const [title, body, expected] of ACCEPTED) {
      it(title, async () => {
        const { post, read, store } = mount(Koa);
        const res = await post(JSON.stringify(body), { 'Content-Type': 'text/plain' });
        assert.equal(res.status, 204, JSON.stringify(res.body));
        if (title.startsWith('a number name')) {
          assert.deepEqual(await store.metricNames(), ['7']);
          assert.deepEqual((await read('7'))[0]?.tags, { b: 'true', n: '1' });
          return;
        }
        const got = (await read('m')).map(({ tags, type, points }) => ({ tags, type, points }));
        assert.deepEqual(got, expected);
      });
    }

    it('resolves TTL: the metric ttl, else the default', async () => {
      const written: { metric: string; ttl: number }[] = [];
      const { post } = mount(Koa, {
        defaultTtl: 60,
        store: { ...fakeStore(), write: async (series) => void written.push(...series.map((s) => ({ metric: s.metric, ttl: s.ttl }))) },
      });
      const res = await post([
        { name: 'a', tags, ttl: 300, timestamp: 1, value: 1 },
        { name: 'b', tags, ttl: 0, timestamp: 1, value: 1 },
        { name: 'c', tags, timestamp: 1, value: 1 },
        { name: 'd', tags, ttl: '5', timestamp: 1, value: 1 },
      ]);
      assert.equal(res.status, 204);
      assert.deepEqual(written, [{ metric: 'a', ttl: 300 }, { metric: 'b', ttl: 60 }, { metric: 'c', ttl: 60 }, { metric: 'd', ttl: 5 }]);
    });

    it('splits one series written with two TTLs, the later duplicate winning', async () => {
      const written: { ttl: number; timestamps: readonly number[]; values: readonly unknown[] }[] = [];
      const { post } = mount(Koa, {
        store: { ...fakeStore(), write: async (series) => void written.push(...series.map(({ ttl, timestamps, values }) => ({ ttl, timestamps, values }))) },
      });
      const res = await post([
        { name: 'm', tags, ttl: 10, datapoints: [[1, 1], [2, 2]] },
        { name: 'm', tags, ttl: 20, datapoints: [[2, 22], [3, 3]] },
      ]);
      assert.equal(res.status, 204);
      assert.deepEqual(written, [
        { ttl: 10, timestamps: [1], values: [1] },
        { ttl: 20, timestamps: [2, 3], values: [22, 3] },
      ]);
    });
  });
}

function fakeStore() {
  return {
    capabilities: { ttl: true, persistent: false },
    write: async () => {},
    read: async function* () {},
    metricNames: async () => [],
    delete: async () => {},
    ping: async () => {},
    close: async () => {},
  };
}
