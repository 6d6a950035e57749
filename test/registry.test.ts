import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kairosdb, MemoryStore, TypeRegistry } from '../src/index.js';
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
