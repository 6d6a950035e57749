import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CassandraStore, printSchema } from '../src/cassandra.js';
import { complexType } from '../src/types/builtins.js';
import { seriesId, bucketOf } from '../src/stores/cassandra/keys.js';
import { mapDriverError } from '../src/stores/cassandra/errors.js';
import { EXPIRY_LIMIT_2038 } from '../src/stores/cassandra/ttl.js';
import { series } from '../src/store-api/conformance.js';
import { decodeChunk } from '../src/stores/chunk/codec.js';
import { driverError, FakeClient } from './fake-cassandra.js';
import { KOAS, mount } from './helpers.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 26);

/** The TTL a chunk row's first point was given: its expiry, kept in the chunk, less now (0: never expires). */
function pointTtlOf(r: { params: unknown[] } | undefined): number {
  const expires = decodeChunk(r?.params[9] as Uint8Array).expires?.[0] ?? 0;
  return expires === 0 ? 0 : (expires - NOW) / 1000;
}

function setup(options: Partial<ConstructorParameters<typeof CassandraStore>[0]> = {}) {
  const client = new FakeClient();
  const store = new CassandraStore({ client, clock: () => NOW, createSchema: false, ...options });
  return { client, store };
}

describe('CassandraStore write planning (fake client)', () => {
  it('writes one chunk row per series and bucket: the points of a request in it, compressed, with its time bounds', async () => {
    const { client, store } = setup();
    await store.write([
      series('m', { h: 'a' }, [[NOW + 1, 2], [NOW, 1], [NOW + DAY, 3]]),
      series('m', { h: 'b' }, [[NOW, 4], [NOW + 1, 5]]),
    ]);
    const rows = client.points().map((r) => {
      const [metric, id, bucket, type, , , first, last, count, data] = r.params as [string, Buffer, number, string, number, Buffer, number, number, number, Uint8Array];
      const chunk = decodeChunk(data);
      return { metric, id: id.toString('hex'), bucket, type, first, last, count, points: Array.from(chunk.timestamps, (t, i) => [t, chunk.values[i]]) };
    });
    const a = seriesId({ h: 'a' }).toString('hex');
    const b = seriesId({ h: 'b' }).toString('hex');
    assert.deepEqual(rows.sort((x, y) => (x.id + x.bucket < y.id + y.bucket ? -1 : 1)), [
      { metric: 'm', id: a, bucket: bucketOf(NOW, DAY), type: 'long', first: NOW, last: NOW + 1, count: 2, points: [[NOW, 1], [NOW + 1, 2]] },
      { metric: 'm', id: a, bucket: bucketOf(NOW + DAY, DAY), type: 'long', first: NOW + DAY, last: NOW + DAY, count: 1, points: [[NOW + DAY, 3]] },
      { metric: 'm', id: b, bucket: bucketOf(NOW, DAY), type: 'long', first: NOW, last: NOW + 1, count: 2, points: [[NOW, 4], [NOW + 1, 5]] },
    ].sort((x, y) => (x.id + x.bucket < y.id + y.bucket ? -1 : 1)));
  });

  it('sends chunk rows of several series in UNLOGGED batches of at most batchSize rows, each under 5 KiB as Cassandra counts it', async () => {
    const { client, store } = setup({ batchSize: 20 });
    await store.write(Array.from({ length: 100 }, (_, i) => series('m', { h: `h${i}` }, [[NOW, i]])));
    const sizes = new Map<number, number>();
    for (const r of client.points()) sizes.set(r.batch as number, (sizes.get(r.batch as number) ?? 0) + 1);
    assert.deepEqual([...sizes.values()], [20, 20, 20, 20, 20]);
    assert.ok(client.points().every((r) => r.options.logged === false));
    const big = setup();
    const points = (n: number) => Array.from({ length: n }, (_, i) => [NOW + i, Math.sin(i) * 1e6] as [number, number]);
    await big.store.write(Array.from({ length: 10 }, (_, i) => series('m', { h: `h${i}` }, points(300), { storage: 'double', type: 'double' })));
    const bytes = new Map<number | undefined, number>();
    for (const r of big.client.points()) bytes.set(r.batch, (bytes.get(r.batch) ?? 0) + (r.params[9] as Buffer).length);
    for (const [batch, size] of bytes) if (batch !== undefined) assert.ok(size < 4608, `batch ${batch}: ${size} bytes of chunks`);
    assert.equal(big.client.points().length, 10);
  });

  it('gives every chunk a write-order key later than the one before: a series given twice in a request keeps its second value', async () => {
    const { client, store } = setup();
    await store.write([series('m', { h: 'a' }, [[NOW, 1]]), series('m', { h: 'a' }, [[NOW, 2]])]);
    const keys = client.points().map((r) => ({ seq: r.params[4] as number, writer: r.params[5] as Buffer }));
    assert.equal(keys.length, 2);
    assert.ok(keys[0] !== undefined && keys[1] !== undefined && keys[1].seq > keys[0].seq, 'the second entry is later in write order');
    assert.ok(keys.every((k) => k.writer.length === 8 && k.seq >= NOW * 1000));
  });

  it('sends every statement prepared, idempotent, at LOCAL_QUORUM', async () => {
    const { client, store } = setup();
    await store.write([series('m', { h: 'a' }, Array.from({ length: 250 }, (_, i) => [NOW + i, i] as [number, number]))]);
    for (const r of client.received.filter((x) => !x.query.startsWith('SELECT') && !x.query.startsWith('CREATE'))) {
      assert.equal(r.options.prepare, true);
      assert.equal(r.options.isIdempotent, true);
      assert.equal(r.options.consistency, 6);
    }
  });

  it('binds no nulls, and keeps the storage of each value type in its chunk', async () => {
    const { client, store } = setup();
    await store.write([
      series('m', { h: 'a' }, [[NOW, 1]]),
      series('m', { h: 'a' }, [[NOW, 1.5]], { storage: 'double' }),
      series('m', { h: 'a' }, [[NOW, 'up']], { storage: 'string' }),
      series('m', { h: 'a' }, [[NOW, new Uint8Array(16)]], { storage: 'bytes', type: 'complex-number' }),
    ]);
    const kinds = client.points().map((r) => [r.params[3], decodeChunk(r.params[9] as Uint8Array).storage]).sort();
    assert.deepEqual(kinds, [['complex-number', 'bytes'], ['double', 'double'], ['long', 'long'], ['string', 'string']]);
    for (const r of client.received) assert.ok(r.params.every((p) => p !== null && p !== undefined), r.query);
  });

  it('keeps the request TTL as each point\'s expiry; the chunk cell and index rows live a bucket (and the cell an hour) longer; 0 stays 0', async () => {
    const { client, store } = setup();
    await store.write([series('m', { h: 'a' }, [[NOW, 1]], { ttl: 300 }), series('n', { h: 'a' }, [[NOW, 1]])]);
    const ttlOf = (r: { params: unknown[] }) => r.params.at(-1);
    assert.deepEqual(client.points().map((r) => [r.params[0], pointTtlOf(r), ttlOf(r)]).sort(), [['m', 300, 300 + 86_400 + 3600], ['n', 0, 0]]);
    const index = client.index();
    assert.deepEqual([...new Set(index.filter((r) => r.params.includes('m')).map(ttlOf))], [300 + 86_400]);
    assert.deepEqual([...new Set(index.filter((r) => r.params.includes('n')).map(ttlOf))], [0]);
  });

  it('forceTtl overrides the request TTL; alignTtlWithTimestamp subtracts the age and drops expired points', async () => {
    const forced = setup({ forceTtl: 60 });
    await forced.store.write([series('m', { h: 'a' }, [[NOW, 1]], { ttl: 300 })]);
    assert.equal(pointTtlOf(forced.client.points()[0]), 60);
    const aligned = setup({ alignTtlWithTimestamp: true });
    await aligned.store.write([series('m', { h: 'a' }, [[NOW - 100_000, 1], [NOW - 400_000, 2]], { ttl: 300 })]);
    assert.deepEqual(aligned.client.points().map((r) => [Array.from(decodeChunk(r.params[9] as Uint8Array).timestamps), pointTtlOf(r)]), [[[NOW - 100_000], 200]]);
  });

  it('clamps expiry to 2038-01-19 unless allowed (Cassandra before 5.0 rejects later ones)', async () => {
    const { client, store } = setup();
    await store.write([series('m', { h: 'a' }, [[NOW, 1]], { ttl: 630_720_000 })]);
    const limit = Math.floor((EXPIRY_LIMIT_2038 - NOW) / 1000);
    assert.equal(pointTtlOf(client.points()[0]), limit);
    assert.equal(client.points()[0]?.params.at(-1), limit, 'the cell too');
    const later = setup({ allowExpiryAfter2038: true });
    await later.store.write([series('m', { h: 'a' }, [[NOW, 1]], { ttl: 630_720_000 })]);
    assert.equal(pointTtlOf(later.client.points()[0]), 630_720_000);
    assert.equal(later.client.points()[0]?.params.at(-1), 630_720_000, 'the cell at most MAX_TTL');
  });

  it('writes index rows once, and learns them only from successful writes', async () => {
    const { client, store } = setup();
    client.fail = { when: (q) => q.includes('.metric_names '), error: driverError('ResponseError', 'write failed', 0x1500) };
    await assert.rejects(store.write([series('m', { h: 'a' }, [[NOW, 1]])]));
    client.received = [];
    await store.write([series('m', { h: 'a' }, [[NOW + 1, 2]])]);
    // Index rows go in batches: the rows of the batch that failed (here all of them) are written again.
    assert.deepEqual(client.index().map((r) => r.query.split(' ')[2]).sort(), ['kairosdb.metric_buckets', 'kairosdb.metric_names', 'kairosdb.series']);
    client.received = [];
    await store.write([series('m', { h: 'a' }, [[NOW + 2, 3]])]);
    assert.deepEqual(client.index(), []);
    assert.equal(client.points().length, 1);
  });

  it('never shuts down a client it did not create', async () => {
    const { client, store } = setup();
    await store.write([series('m', { h: 'a' }, [[NOW, 1]])]);
    await store.close();
    assert.equal(client.shutdowns, 0);
    await assert.rejects(store.write([]), (e: { unavailable?: boolean }) => e.unavailable === true);
  });

  it('refuses to start on data with another bucket width', async () => {
    const { client, store } = setup({ bucketWidthMs: 3_600_000 });
    client.bucketWidthMs = DAY;
    await assert.rejects(store.init(), /uses buckets of 86400000 ms, not 3600000 ms/);
  });

  it('runs the DDL, idempotently, by default and never with createSchema: false', async () => {
    assert.equal(new CassandraStore({ client: new FakeClient() }).options.createSchema, true);
    const plain = setup();
    await plain.store.init();
    assert.ok(!plain.client.received.some((r) => r.query.startsWith('CREATE')));
    const creating = setup({ createSchema: true });
    await creating.store.init();
    const ddl = creating.client.received.filter((r) => r.query.startsWith('CREATE'));
    assert.equal(ddl.length, 10);
    assert.ok(ddl.every((r) => r.query.includes('IF NOT EXISTS')));
  });
});

describe('Cassandra codecs and keys', () => {
  it('encodes a complex number as 16 bytes: real then imaginary, big-endian doubles', () => {
    const bytes = complexType.encode({ real: 1.5, imaginary: -2 }) as Uint8Array;
    assert.deepEqual([...bytes], [0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(complexType.decode(bytes), { real: 1.5, imaginary: -2 });
  });

  it('derives a 16-byte series id from the tags, independent of order and unambiguous', () => {
    const id = seriesId({ a: '1', b: '2' });
    assert.equal(id.length, 16);
    assert.deepEqual(seriesId({ b: '2', a: '1' }), id);
    assert.notDeepEqual(seriesId({ a: 'bc' }), seriesId({ ab: 'c' }));
  });

  it('floors timestamps to buckets, negative ones included', () => {
    assert.equal(bucketOf(DAY + 5, DAY), DAY);
    assert.equal(bucketOf(-1, DAY), -DAY);
  });
});

describe('Cassandra error mapping', () => {
  const unavailable: [string, Error][] = [
    ['NoHostAvailableError', driverError('NoHostAvailableError', 'All host(s) tried')],
    ['OperationTimedOutError', driverError('OperationTimedOutError', 'timed out')],
    ['Unavailable', driverError('ResponseError', 'Cannot achieve consistency', 0x1000)],
    ['Overloaded', driverError('ResponseError', 'overloaded', 0x1001)],
    ['IsBootstrapping', driverError('ResponseError', 'bootstrapping', 0x1002)],
    ['WriteTimeout', driverError('ResponseError', 'write timeout', 0x1100)],
  ];
  for (const [title, error] of unavailable) {
    it(`${title} → unavailable (503)`, () => {
      assert.equal((mapDriverError(error) as { unavailable?: boolean }).unavailable, true);
    });
  }
  for (const [title, error] of [
    ['SyntaxError', driverError('ResponseError', 'line 1: no viable alternative', 0x2000)],
    ['Unauthorized', driverError('ResponseError', 'not authorized', 0x2100)],
  ] as const) {
    it(`${title} → passed on (500)`, () => assert.equal(mapDriverError(error), error));
  }

  for (const [label, Koa] of KOAS) {
    it(`answers 503 with Retry-After when no host is available, without driver details (${label})`, async () => {
      const { client, store } = setup();
      client.fail = { when: () => true, error: driverError('NoHostAvailableError', 'All host(s) tried: 10.1.2.3:9042'), always: true };
      const res = await mount(Koa, { store }).post([{ name: 'm', tags: { h: 'a' }, timestamp: NOW, value: 1 }]);
      assert.equal(res.status, 503);
      assert.equal(res.headers['retry-after'], '1');
      assert.ok(!res.text.includes('10.1.2.3'));
    });
  }
});

describe('printSchema', () => {
  it('prints idempotent DDL with the configured names, and presets skip the keyspace', () => {
    const cql = printSchema({ keyspace: 'metrics', replication: { class: 'NetworkTopologyStrategy', dc1: 3 } });
    assert.match(cql, /CREATE KEYSPACE IF NOT EXISTS metrics WITH replication = \{'class': 'NetworkTopologyStrategy', 'dc1': 3\}/);
    assert.match(cql, /CREATE TABLE IF NOT EXISTS metrics\.chunks/);
    assert.match(cql, /PRIMARY KEY \(\(metric, series_id, bucket\), type, seq, writer\)/);
    assert.match(cql, /'layout_version', '3'/);
    assert.doesNotMatch(printSchema({ preset: 'keyspaces' }), /CREATE KEYSPACE/);
  });
});
