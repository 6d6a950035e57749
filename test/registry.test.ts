import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { array, number, object, refine } from 'superstruct';
import request from 'supertest';
import { kairosdb, MemoryStore, TypeRegistry } from '../src/index.js';
import { SqliteStore } from '../src/sqlite.js';
import { geoPoint } from '../example-app/geo-point.js';
import { KOAS, mount } from './helpers.js';

describe('TypeRegistry', () => {
  it('holds the built-ins, complex as an alias of complex-number', () => {
    const types = new TypeRegistry();
    assert.deepEqual(types.names().sort(), ['complex', 'complex-number', 'double', 'long', 'string']);
    assert.equal(types.get('complex'), types.get('complex-number'));
  });

  it('refuses to replace a registered name', () => {
    const types = new TypeRegistry();
    types.register(geoPoint);
    assert.throws(() => types.register(geoPoint), /Value type 'geo-point' is already registered/);
    assert.throws(() => types.register({ ...geoPoint, name: 'long' }), /Value type 'long' is already registered/);
  });

  it('reserves the built-in result groups and refuses names that are not lower-case words', () => {
    const types = new TypeRegistry();
    assert.throws(() => types.register({ ...geoPoint, name: 'number' }), /cannot use the result group 'number'/);
    assert.throws(() => types.register({ ...geoPoint, name: 'histogram', group: 'text' }), /cannot use the result group 'text'/);
    assert.throws(() => types.register({ ...geoPoint, name: 'histogram', group: 'complex' }), /cannot use the result group 'complex'/);
    for (const name of ['LONG', 'has space', '', '1st', 'x'.repeat(65)]) {
      assert.throws(() => types.register({ ...geoPoint, name }), /must be lower case letters, digits/, name);
    }
    assert.equal(types.register({ ...geoPoint, name: 'kairos_histogram.v2-b' }).group, 'kairos_histogram.v2-b');
    assert.deepEqual(types.names().sort(), ['complex', 'complex-number', 'double', 'kairos_histogram.v2-b', 'long', 'string']);
  });

  it('keeps registrations per instance (no global state)', () => {
    new TypeRegistry().register(geoPoint);
    assert.equal(new TypeRegistry().get('geo-point'), undefined);
  });

  it('round-trips a custom value through its codec', () => {
    const type = new TypeRegistry().register(geoPoint);
    const parsed = type.parse({ lat: 1.5, lon: -2 });
    assert.deepEqual(parsed, { lat: 1.5, lon: -2 });
    assert.deepEqual(type.decode(type.encode(parsed as never)), { lat: 1.5, lon: -2 });
    assert.equal(type.parse({ lat: 91, lon: 0 }), undefined);
  });
});

for (const [label, Koa] of KOAS) {
  describe(`custom types over HTTP (${label})`, () => {
    it('stores a registered custom type through its codec and rejects a bad value', async () => {
      const types = new TypeRegistry();
      const geo = types.register(geoPoint);
      const { post, read } = mount(Koa, { types });
      const ok = await post([{ name: 'pos', tags: { car: '1' }, type: 'geo-point', datapoints: [[1, { lat: 48.1, lon: 11.6 }]] }]);
      assert.equal(ok.status, 204, ok.text);
      const [stored] = await read('pos');
      assert.equal(stored?.type, 'geo-point');
      assert.deepEqual(geo.decode(stored?.points[0]?.[1] as Uint8Array), { lat: 48.1, lon: 11.6 });
      const bad = await post([{ name: 'pos', tags: { car: '1' }, type: 'geo-point', datapoints: [[1, { lat: 95, lon: 0 }]] }]);
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body.errors, ["metric[0](name=pos).datapoints[0].value is not a valid value of type 'geo-point' (lat fails the 'latitude' check)."]);
      const wrongKind = await post([{ name: 'pos', tags: { car: '1' }, type: 'geo-point', datapoints: [[1, { lat: 'north', lon: 0 }]] }]);
      assert.deepEqual(wrongKind.body.errors, ["metric[0](name=pos).datapoints[0].value is not a valid value of type 'geo-point' (lat fails the number check)."]);
    });

    it("passes on the message a custom type's own check gives (a refiner returning a string), bounded", async () => {
      const types = new TypeRegistry();
      const shaped = refine(object({ bins: array(number()), counts: array(number()) }), 'shape', (v) => v.bins.length === v.counts.length || `bins has ${v.bins.length} entries, counts ${v.counts.length}: they must match`);
      types.register({ ...geoPoint, name: 'histogram', struct: shaped as never });
      const { post } = mount(Koa, { types });
      const bad = await post([{ name: 'h', tags: { h: 'a' }, type: 'histogram', datapoints: [[1, { bins: [1, 2], counts: [1] }]] }]);
      assert.deepEqual(bad.body.errors, ["metric[0](name=h).datapoints[0].value is not a valid value of type 'histogram' (fails the 'shape' check: bins has 2 entries, counts 1: they must match)."]);
      const long = refine(number(), 'small', () => 'x'.repeat(5000));
      types.register({ ...geoPoint, name: 'wordy', struct: long as never });
      const wordy = await post([{ name: 'w', tags: { h: 'a' }, type: 'wordy', datapoints: [[1, 1]] }]);
      assert.equal(wordy.status, 400);
      assert.ok((wordy.body.errors[0] as string).length < 400, 'a long message is cut');
    });

    it('hands decode bytes of their own (a store keeps values in shared buffers), and answers 500 naming a type whose decode fails, logged once', async () => {
      const types = new TypeRegistry();
      // The naive decode of the papercut: a Float64Array over the whole buffer.
      types.register<number[]>({ name: 'vec', struct: array(number()) as never, encode: (v) => new Uint8Array(Float64Array.from(v).buffer), decode: (b) => Array.from(new Float64Array(b.buffer)) });
      types.register<number>({ name: 'broken', struct: number() as never, encode: () => new Uint8Array(1), decode: () => { throw new Error('no such layout'); } });
      types.register<number>({ name: 'lying', struct: number() as never, encode: () => new Uint8Array(1), decode: () => 1, toJSON: () => 10n });
      const logged: unknown[] = [];
      const logger = { error: (o: unknown) => void logged.push(o), warn: () => {}, info: () => {}, debug: () => {} };
      const store = new SqliteStore({ path: ':memory:' });
      const { app, post } = mount(Koa, { types, store, logger });
      const series = Array.from({ length: 20 }, (_, i) => ({ name: 'v', tags: { n: String(i) }, type: 'vec', datapoints: [[1, [i, i + 0.5]], [2, [-i]]] }));
      assert.equal((await post(series)).status, 204);
      const query = (metric: string) => request(app.callback()).post('/api/v1/datapoints/query').send({ start_absolute: 0, metrics: [{ name: metric, tags: { n: ['7'] } }] });
      const read = await query('v');
      assert.equal(read.status, 200, read.text);
      assert.deepEqual(read.body.queries[0].results[0].values, [[1, [7, 7.5]], [2, [-7]]]);
      assert.equal((await post([{ name: 'b', tags: { n: '7' }, type: 'broken', datapoints: [[1, 1]] }, { name: 'l', tags: { n: '7' }, type: 'lying', datapoints: [[1, 1]] }])).status, 204);
      for (let i = 0; i < 2; i++) {
        const broken = await query('b');
        assert.equal(broken.status, 500);
        assert.deepEqual(broken.body.errors, ["A stored value of type 'broken' could not be read back by the type's decode or toJSON (the server's log says why)"]);
      }
      const lying = await query('l');
      assert.equal(lying.status, 500);
      assert.match(lying.body.errors[0], /type 'lying'/);
      assert.equal(logged.length, 2, 'each failing type logged once');
      assert.match(String((logged[0] as { err: Error }).err.message), /Value type 'broken': decode or toJSON failed on a stored value: no such layout/);
      await store.close();
    });

    it('does not know a type registered on another mount', async () => {
      const { post } = mount(Koa);
      const res = await post([{ name: 'pos', tags: { car: '1' }, type: 'geo-point', datapoints: [[1, { lat: 1, lon: 1 }]] }]);
      assert.deepEqual(res.body.errors, ["Unregistered data point type 'geo-point'"]);
    });
  });
}

describe('kairosdb(options) checks its options when called', () => {
  const store = new MemoryStore();
  const bad: [string, unknown, RegExp][] = [
    ['no options', undefined, /options must be an object/],
    ['neither store nor cassandra', {}, /give options.store .* or options.cassandra/],
    ['both store and cassandra', { store, cassandra: { contactPoints: ['h'] } }, /not both/],
    ['a prefix without a leading slash', { store, prefix: 'api' }, /options.prefix/],
    ['a prefix with a trailing slash', { store, prefix: '/api/' }, /options.prefix/],
    ['a zero body limit', { store, maxBodyBytes: 0 }, /options.maxBodyBytes must be a positive integer/],
    ['a fractional maxErrors', { store, maxErrors: 1.5 }, /options.maxErrors must be a positive integer/],
    ['a negative default TTL', { store, defaultTtl: -1 }, /options.defaultTtl/],
    ['types that are not a registry', { store, types: {} }, /options.types must be a TypeRegistry/],
    ['a logger without warn', { store, logger: { error() {}, info() {}, debug() {} } }, /options.logger.warn must be a function/],
    ['a misspelt prefix', { store, prefx: '/x' }, /kairosdb\(options\): unknown option 'prefx'; did you mean 'prefix'\?/],
    ['maxBodySize', { store, maxBodySize: 1 }, /unknown option 'maxBodySize'; did you mean 'maxBodyBytes'\?/],
    ['a key nothing resembles', { store, zzzzzzzz: 1 }, /unknown option 'zzzzzzzz'; known options: .*prefix/],
    ['a misspelt Cassandra option', { cassandra: { contactPoints: ['h'], localDataCenter: 'dc1', keyspce: 'k' } }, /CassandraStore\(options\): unknown option 'keyspce'; did you mean 'keyspace'\?/],
  ];
  for (const [title, options, message] of bad) {
    it(`throws a TypeError for ${title}`, () => {
      assert.throws(() => kairosdb(options as never), (e: unknown) => e instanceof TypeError && message.test((e as Error).message));
    });
  }
});
