// Issue #30: Cassandra layout 3 — points in compressed chunks per (series, bucket), merged in write order on read,
// compacted in the background (tiers as writes land, sweeps of closed buckets under a lease), and layout 2's rows
// read beside the chunks until `migrate` moves them. On the CQL fake here; the real node runs the conformance suite
// and test/integration/cassandra-chunks.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CassandraStore } from '../src/cassandra.js';
import { readAll, series } from '../src/store-api/conformance.js';
import { decodeChunk } from '../src/stores/chunk/codec.js';
import { seriesId } from '../src/stores/cassandra/keys.js';
import { queries } from '../src/stores/cassandra/queries.js';
import { resolveCassandraOptions } from '../src/stores/cassandra/options.js';
import { compactPartition, type PartitionIo } from '../src/stores/cassandra/partition.js';
import { CqlFake } from './cql-fake.js';

const DAY = 86_400_000;
const NOW = 20_000 * DAY + 12 * 3_600_000;
const BUCKET = 20_000 * DAY;
const q = queries(resolveCassandraOptions({ keyspace: 'kairosdb' }));

function open(fake: CqlFake, options: Partial<ConstructorParameters<typeof CassandraStore>[0]> = {}) {
  return new CassandraStore({ client: fake, createSchema: true, clock: () => fake.now, compactIntervalMs: 0, ...options });
}

/** The chunk rows of series {h: a} of metric m in a bucket, of a type. */
async function chunkRowsOf(fake: CqlFake, bucket = BUCKET, type = 'long', tags: Record<string, string> = { h: 'a' }) {
  return (await fake.execute(q.selectChunksTtl, ['m', seriesId(tags), bucket, type], { fetchSize: 100_000 })).rows;
}

async function settled(store: CassandraStore): Promise<void> {
  while (((await store.figures()).compaction_pending ?? 0) !== 0) await new Promise((resolve) => setTimeout(resolve, 5));
}

const points = async (store: CassandraStore, tags = { h: 'a' }) => (await readAll(store, { metric: 'm', tags: { h: [tags.h] } }))[0]?.points ?? [];

describe('Cassandra layout 3: chunks (#30)', () => {
  it('a later write wins at a timestamp, across requests and across two instances of the store', async () => {
    const fake = new CqlFake(NOW);
    const first = open(fake);
    const second = open(fake);
    await first.write([series('m', { h: 'a' }, [[NOW, 1], [NOW + 1, 1]])]);
    fake.now += 1;
    await second.write([series('m', { h: 'a' }, [[NOW, 2]])]);
    fake.now += 1;
    await first.write([series('m', { h: 'a' }, [[NOW + 1, 3]])]);
    for (const store of [first, second]) assert.deepEqual(await points(store), [[NOW, 2], [NOW + 1, 3]]);
    assert.equal((await chunkRowsOf(fake)).length, 3, 'one chunk per request');
  });

  it('merges a partition\'s small chunks in tiers as writes land: the same points, fewer rows, overwrites still right', async () => {
    const fake = new CqlFake(NOW);
    const store = open(fake);
    const expected = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      fake.now += 1;
      const at = NOW - 300_000 + (i % 250) * 1000;
      await store.write([series('m', { h: 'a' }, [[at, i]])]);
      expected.set(at, i);
      await settled(store);
    }
    const rows = await chunkRowsOf(fake);
    assert.ok(rows.length <= 2 * 16, `300 requests left ${rows.length} chunks`);
    assert.ok(((await store.figures()).chunks_merged ?? 0) > 280);
    assert.deepEqual(await points(store), [...expected].sort((a, b) => a[0] - b[0]));
    fake.now += 1;
    await store.write([series('m', { h: 'a' }, [[NOW - 300_000, -1]])]);
    assert.deepEqual((await points(store))[0], [NOW - 300_000, -1], 'a write after the merges wins over their output');
  });

  it('two instances merging one partition at once converge, and keep a chunk written meanwhile', async () => {
    const fake = new CqlFake(NOW);
    const store = open(fake, { compactionConcurrency: 0 });
    for (let i = 0; i < 12; i++) {
      fake.now += 1;
      await store.write([series('m', { h: 'a' }, [[NOW - 1000 * i, i], [NOW - 500, i]])]);
    }
    const run = async (query: string, params: unknown[]) => void (await fake.execute(query, params));
    const io: PartitionIo = { q, legacy: false, all: async (query, params) => (await fake.execute(query, params, { fetchSize: 100_000 })).rows, run, runMergeOutput: run, cellTtl: () => 0 };
    const key = { metric: 'm', id: seriesId({ h: 'a' }), bucket: BUCKET, type: 'long', storage: 'long' as const };
    const options = { now: fake.now, bucketWidthMs: DAY, minChunks: 2 };
    const merges = [compactPartition(io, key, options), compactPartition(io, key, options)];
    fake.now += 1;
    const meanwhile = store.write([series('m', { h: 'a' }, [[NOW + 5, 99], [NOW - 500, 100]])]);
    await Promise.all([...merges, meanwhile]);
    const got = await points(store);
    assert.deepEqual(got.find(([t]) => t === NOW - 500), [NOW - 500, 100], 'the write made during the merges wins');
    assert.deepEqual(got.find(([t]) => t === NOW + 5), [NOW + 5, 99]);
    assert.deepEqual(got.find(([t]) => t === NOW - 11_000), [NOW - 11_000, 11]);
    assert.equal(got.length, 14);
    const before = await chunkRowsOf(fake);
    await compactPartition(io, key, options);
    assert.ok((await chunkRowsOf(fake)).length <= before.length);
    assert.deepEqual(await points(store), got, 'merging again changes nothing');
  });

  it("writes and reads the schema's own rows at the store's consistency (a lagging replica must not answer them)", async () => {
    const fake = new CqlFake(NOW);
    const sent: { query: string; consistency: unknown }[] = [];
    const client = {
      batch: (statements: { query: string; params: unknown[] }[]) => fake.batch(statements),
      async execute(query: string, params: unknown[] = [], options: { consistency?: number; fetchSize?: number; pageState?: string } = {}) {
        sent.push({ query, consistency: options.consistency });
        return fake.execute(query, params, options);
      },
    };
    for (const consistency of [6, 4]) {
      sent.length = 0;
      const store = new CassandraStore({ client, createSchema: true, consistency, clock: () => fake.now, compactIntervalMs: 0, compactionConcurrency: 0 });
      await store.write([series('m', { h: 'a' }, [[NOW, 1]])]);
      const meta = sent.filter((s) => s.query === q.insertMeta || s.query === q.selectMeta);
      assert.deepEqual(meta.map((s) => [s.query === q.selectMeta ? 'read' : 'write', s.consistency]), [['write', consistency], ['write', consistency], ['read', consistency]]);
      await store.close();
    }
  });

  it('a merge writes its output on every replica (consistency ALL) before deleting what it read; if that fails, every chunk stays', async () => {
    const fake = new CqlFake(NOW);
    const sent: { query: string; consistency: unknown }[] = [];
    let refuseAll = true;
    const client = {
      batch: (statements: { query: string; params: unknown[] }[]) => fake.batch(statements),
      async execute(query: string, params: unknown[] = [], options: { consistency?: number; fetchSize?: number; pageState?: string } = {}) {
        sent.push({ query, consistency: options.consistency });
        if (refuseAll && options.consistency === 5 && query === q.insertChunk) throw Object.assign(new Error('Cannot achieve consistency level ALL'), { name: 'ResponseError', code: 0x1000 });
        return fake.execute(query, params, options);
      },
    };
    const store = new CassandraStore({ client, createSchema: true, clock: () => fake.now, compactIntervalMs: 0, compactionConcurrency: 0 });
    for (let i = 0; i < 5; i++) {
      fake.now += 1;
      await store.write([series('m', { h: 'a' }, [[NOW - i * 1000, i]])]);
    }
    const written = await points(store);
    fake.now = BUCKET + DAY + 10 * 60_000;
    await assert.rejects(store.compact(), /Cassandra is unavailable/);
    assert.equal((await chunkRowsOf(fake)).length, 5, 'no chunk deleted');
    assert.deepEqual(await points(store), written);
    assert.ok(!sent.some((s) => s.query === q.deleteChunk), 'no delete sent');
    refuseAll = false;
    sent.length = 0;
    assert.deepEqual(await store.compact(), { partitions: 1, merged: 5 });
    const order = sent.filter((s) => s.query === q.insertChunk || s.query === q.deleteChunk);
    assert.deepEqual(order.map((s) => [s.query === q.insertChunk ? 'insert' : 'delete', s.consistency]), [['insert', 5], ...new Array(5).fill(['delete', 6])]);
    assert.deepEqual(await points(store), written);
    assert.equal((await chunkRowsOf(fake)).length, 1);
  });

  it('tier merges failing while a replica is down keep their chunks, count in merges_failed and warn once a minute', async () => {
    const fake = new CqlFake(NOW);
    const client = {
      batch: (statements: { query: string; params: unknown[] }[]) => fake.batch(statements),
      async execute(query: string, params: unknown[] = [], options: { consistency?: number; fetchSize?: number; pageState?: string } = {}) {
        if (options.consistency === 5) throw Object.assign(new Error('Cannot achieve consistency level ALL'), { name: 'ResponseError', code: 0x1000 });
        return fake.execute(query, params, options);
      },
    };
    const warnings: unknown[] = [];
    const logger = { error() {}, info() {}, debug() {}, warn: (fields: unknown) => void warnings.push(fields) };
    const store = new CassandraStore({ client, createSchema: true, clock: () => fake.now, compactIntervalMs: 0, logger });
    for (let i = 0; i < 64; i++) {
      fake.now += 1;
      await store.write([series('m', { h: 'a' }, [[NOW - i * 1000, i]])]);
      await settled(store);
    }
    assert.equal((await chunkRowsOf(fake)).length, 64, 'every chunk kept');
    assert.equal((await points(store)).length, 64);
    assert.equal((await store.figures()).merges_failed, 4, 'a tier merge per 16 chunks, each failed');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
  });

  it('an overwrite with a shorter TTL does not bring the older value back when it expires, before or after the sweep', async () => {
    const fake = new CqlFake(NOW);
    const store = open(fake);
    await store.write([series('m', { h: 'a' }, [[NOW - 5000, 1], [NOW - 4000, 1]])]);
    fake.now += 1;
    await store.write([series('m', { h: 'a' }, [[NOW - 5000, 2]], { ttl: 60 })]);
    assert.deepEqual(await points(store), [[NOW - 5000, 2], [NOW - 4000, 1]]);
    fake.now += 61_000;
    assert.deepEqual(await points(store), [[NOW - 4000, 1]], 'expired, and still hiding the value it replaced');
    fake.now = BUCKET + DAY + 10 * 60_000;
    assert.deepEqual(await store.compact(), { partitions: 1, merged: 2 });
    fake.now += 365 * DAY;
    assert.deepEqual(await points(store), [[NOW - 4000, 1]]);
    assert.equal((await chunkRowsOf(fake)).length, 1, 'the sweep dropped both');
  });

  it('groups a merge\'s points by expiry so that no cell outlives its points by more than a bucket', async () => {
    const fake = new CqlFake(NOW);
    const store = open(fake);
    await store.write([series('m', { h: 'a' }, [[NOW - 3000, 1]], { ttl: 2 * 86_400 })]);
    await store.write([series('m', { h: 'a' }, [[NOW - 2000, 2]], { ttl: 30 * 86_400 })]);
    await store.write([series('m', { h: 'a' }, [[NOW - 1000, 3]])]);
    fake.now = BUCKET + DAY + 10 * 60_000;
    await store.compact();
    const cells = (await chunkRowsOf(fake)).map((r) => ({ points: Array.from(decodeChunk(r.data as Uint8Array).values), ttl: r.ttl }));
    assert.equal(cells.length, 3);
    const ttl = (value: number) => cells.find((c) => c.points.includes(value))?.ttl as number | null;
    assert.equal(ttl(3), null);
    assert.ok(Math.abs((ttl(1) as number) - (2 * 86_400 - (fake.now - NOW) / 1000 + 86_400 + 3600)) <= 2, String(ttl(1)));
    assert.ok((ttl(2) as number) > 29 * 86_400);
  });

  it('a range delete removes a chunk inside it and rewrites one it cuts, under its own key, the rest keeping their expiry', async () => {
    const fake = new CqlFake(NOW);
    const store = open(fake);
    await store.write([series('m', { h: 'a' }, Array.from({ length: 10 }, (_, i) => [NOW - 10_000 + i * 1000, i] as [number, number]), { ttl: 3600 })]);
    await store.write([series('m', { h: 'a' }, [[NOW - 20_000, 50]])]);
    const keys = (await chunkRowsOf(fake)).map((r) => (r.writer as Buffer).toString('hex') + String(r.seq));
    await store.delete({ metric: 'm', start: NOW - 20_000, end: NOW - 5000 });
    assert.deepEqual((await points(store)).map(([, v]) => v), [6, 7, 8, 9]);
    const left = await chunkRowsOf(fake);
    assert.equal(left.length, 1);
    assert.ok(keys.includes((left[0]?.writer as Buffer).toString('hex') + String(left[0]?.seq)));
    const read = await store.read({ metric: 'm', expiry: true })[Symbol.asyncIterator]().next();
    const page = await (read.value as { points(): AsyncIterable<{ expires?: ArrayLike<number> }> }).points()[Symbol.asyncIterator]().next();
    assert.deepEqual(Array.from((page.value as { expires: ArrayLike<number> }).expires), new Array(4).fill(NOW + 3_600_000));
  });

  it('reads a layout-2 keyspace\'s data_points beside the chunks, and `migrate` moves them (idempotent, online)', async () => {
    const fake = new CqlFake(NOW);
    const old = open(fake);
    await old.write([series('m', { h: 'a' }, [[NOW - 9000, 0]])]);
    await old.write([series('m', { h: 'a' }, [[NOW - 3000, 0]], { storage: 'string', type: 'string' })]);
    await fake.execute(q.deleteChunkPartition, ['m', seriesId({ h: 'a' }), BUCKET]);
    const id = seriesId({ h: 'a' });
    for (let i = 0; i < 5; i++) fake.legacyPoint('m', id, BUCKET, NOW - 9000 + i * 1000, 'long', 'long', i, i === 4 ? 3600 : 0);
    fake.legacyPoint('m', id, BUCKET, NOW - 3000, 'string', 'string', 'up');
    fake.asLayout('2');
    await assert.rejects(open(fake, { createSchema: false }).init(), /has schema layout 2; layout 3 keeps points in compressed chunks: start once with createSchema: true/);
    const store = open(fake);
    await store.init();
    const all = async () => (await readAll(store, { metric: 'm' })).map((s) => [s.type, s.points]);
    assert.deepEqual(await all(), [['long', [[NOW - 9000, 0], [NOW - 8000, 1], [NOW - 7000, 2], [NOW - 6000, 3], [NOW - 5000, 4]]], ['string', [[NOW - 3000, 'up']]]]);
    fake.now += 1;
    await store.write([series('m', { h: 'a' }, [[NOW - 8000, 10]])]);
    const expected = [['long', [[NOW - 9000, 0], [NOW - 8000, 10], [NOW - 7000, 2], [NOW - 6000, 3], [NOW - 5000, 4]]], ['string', [[NOW - 3000, 'up']]]];
    assert.deepEqual(await all(), expected, 'a write after the upgrade wins over a layout-2 point');
    assert.deepEqual(await store.migrate(), { partitions: 1, points: 6 });
    assert.deepEqual(await all(), expected);
    assert.deepEqual((await fake.execute(q.selectPointsTtl.long, ['m', id, BUCKET, 0, Number.MAX_SAFE_INTEGER])).rows, [], 'data_points emptied');
    const moved = (await chunkRowsOf(fake)).find((r) => Number((r.seq as { toNumber(): number }).toNumber()) === 0 && decodeChunk(r.data as Uint8Array).expires);
    assert.ok(moved && Math.abs((moved.ttl as number) - (3600 + 86_400 + 3600)) <= 2, 'a moved point keeps its TTL (with the chunk grace)');
    const meta = (await fake.execute(q.selectMeta, [])).rows;
    assert.equal(meta.find((r) => r.name === 'legacy_points')?.value, '0');
    assert.deepEqual(await store.migrate(), { partitions: 0, points: 0 });
  });

  it('a merge that rewrites a key it read (a late chunk from a slower clock) keeps that row: nothing is lost', async () => {
    const fake = new CqlFake(NOW);
    const fast = open(fake);
    const slow = open(fake, { clock: () => fake.now - 60_000 });
    await fast.write([series('m', { h: 'a' }, [[NOW - 3000, 1]])]);
    await fast.write([series('m', { h: 'a' }, [[NOW - 2000, 2]])]);
    const sweepAt = BUCKET + DAY + 10 * 60_000;
    const compactAt = async () => {
      const now = fake.now;
      fake.now = sweepAt;
      await fast.compact();
      fake.now = now;
    };
    await compactAt();
    assert.equal((await chunkRowsOf(fake)).length, 1);
    await slow.write([series('m', { h: 'a' }, [[NOW - 1000, 3]])]);
    await compactAt();
    assert.deepEqual(await points(fast), [[NOW - 3000, 1], [NOW - 2000, 2], [NOW - 1000, 3]]);
  });

  it('leaves a closed bucket whose sweep lease another instance holds', async () => {
    const fake = new CqlFake(NOW);
    const writer = open(fake, { compactionConcurrency: 0 });
    for (let i = 0; i < 3; i++) await writer.write([series('m', { h: 'a' }, [[NOW - i * 1000, i]])]);
    fake.now = BUCKET + DAY + 6 * 60_000;
    await fake.execute(q.takeLease, [`sweeping\u0000m\u0000${BUCKET}`, Buffer.alloc(8, 1), 600]);
    const sweeper = open(fake, { compactIntervalMs: 10 });
    await sweeper.init();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await chunkRowsOf(fake)).length, 3, 'not swept while the lease is held');
    assert.equal((await sweeper.figures()).chunks_merged, 0);
    await sweeper.close();
  });

  it('sweeps a closed bucket once among instances: a lease (lightweight transaction) lets one do it, and it is marked done', async () => {
    const fake = new CqlFake(NOW);
    const writer = open(fake, { compactionConcurrency: 0 });
    for (let i = 0; i < 5; i++) {
      fake.now += 1;
      await writer.write([series('m', { h: 'a' }, [[NOW - i * 1000, i]]), series('m', { h: 'b' }, [[NOW - i * 1000, i]])]);
    }
    fake.now = BUCKET + DAY + 6 * 60_000;
    const sweepers = [open(fake, { compactIntervalMs: 10 }), open(fake, { compactIntervalMs: 10 })];
    await Promise.all(sweepers.map((s) => s.init()));
    const deadline = Date.now() + 5000;
    while ((await chunkRowsOf(fake)).length > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const merged = await Promise.all(sweepers.map(async (s) => (await s.figures()).chunks_merged));
    assert.deepEqual(merged.sort(), [0, 10], 'one instance merged both series (5 chunks each), the other none');
    assert.equal((await chunkRowsOf(fake)).length, 1);
    assert.equal((await chunkRowsOf(fake, BUCKET, 'long', { h: 'b' })).length, 1);
    await Promise.all(sweepers.map((s) => s.close()));
  });
});
