import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Limiter } from '../src/stores/cassandra/limiter.js';
import { Lru } from '../src/stores/cassandra/lru.js';
import { indexTtl, outlives, pointTtl } from '../src/stores/cassandra/ttl.js';
import { planWrite, tagMap } from '../src/stores/cassandra/plan.js';
import { WriteOrder } from '../src/stores/cassandra/chunks.js';
import { queries } from '../src/stores/cassandra/queries.js';
import { resolveCassandraOptions } from '../src/stores/cassandra/options.js';
import cassandra from 'cassandra-driver';

describe('Cassandra store parts', () => {
  it('tagMap encodes a tag set as the driver encodes a map<text, text> (protocol v4), UTF-8 and __proto__ included', () => {
    // The driver's own encoder (not in its type declarations).
    const { Encoder } = cassandra as unknown as { Encoder: new (protocolVersion: number, options: object) => { encode(value: unknown, type: unknown): Buffer } };
    const encoder = new Encoder(4, {});
    const type = { code: cassandra.types.dataTypes.map, info: [{ code: cassandra.types.dataTypes.text }, { code: cassandra.types.dataTypes.text }] };
    for (const tags of [{}, { host: 'a' }, { host: 'h1', id: '7', 'ü': '日本 ✓' }, JSON.parse('{"__proto__":"x","z":""}') as Record<string, string>]) {
      const bytes = tagMap(tags);
      assert.deepEqual(bytes, encoder.encode(tags, type));
    }
  });

  it('planWrite plans a series given twice in one request once, its rows with the longer TTL', () => {
    const options = resolveCassandraOptions({ contactPoints: ['x'], localDataCenter: 'd', keyspace: 'k' });
    const now = Date.UTC(2024, 9, 4, 12);
    const write = (ttl: number) => ({ metric: 'm', tags: { host: 'a' }, type: 'long', storage: 'long' as const, ttl, timestamps: [now - 1000], values: [1] });
    const settings = { ...options, queries: queries(options), now, order: new WriteOrder(), indexed: () => false };
    const plan = planWrite([write(60), write(3600), write(120)], settings);
    const longest = planWrite([write(3600)], settings).series[0]?.ttl as number;
    assert.equal(plan.series.length, 1);
    // The series row, one posting, the tag's metrics row, the bucket row, the names row.
    assert.equal(plan.index.length, 5);
    const ttl = plan.series[0]?.ttl as number;
    assert.equal(ttl, longest);
    assert.ok(longest > planWrite([write(120)], settings).series[0]!.ttl);
    for (const row of plan.index) {
      assert.equal(row.ttl, ttl);
      assert.equal(row.params[row.params.length - 1], ttl);
    }
    assert.equal(plan.chunks.length, 3);
  });

  it('Lru forgets the least recently used key first', () => {
    const lru = new Lru<number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    assert.equal(lru.get('a'), 1);
    lru.set('c', 3);
    assert.equal(lru.get('b'), undefined);
    assert.equal(lru.get('a'), 1);
    assert.equal(lru.get('c'), 3);
  });

  it('Limiter never runs more than its limit at once, and runs everything', async () => {
    const limiter = new Limiter(3);
    let running = 0;
    let peak = 0;
    const done = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.run(async () => {
          peak = Math.max(peak, ++running);
          await new Promise((r) => setTimeout(r, 2));
          running--;
          return i;
        }),
      ),
    );
    assert.equal(peak, 3);
    assert.deepEqual(done, Array.from({ length: 20 }, (_, i) => i));
  });

  it('TTL rules: 0 is forever and outlives everything; index rows live one bucket longer', () => {
    const rules = { forceTtl: undefined, alignTtlWithTimestamp: false, allowExpiryAfter2038: true };
    assert.equal(pointTtl(0, 0, 0, rules), 0);
    assert.equal(indexTtl(0, 86_400_000, 0, rules), 0);
    assert.equal(indexTtl(60, 3_600_000, 0, rules), 3660);
    assert.ok(outlives(0, 60) && outlives(61, 60) && !outlives(60, 0) && !outlives(60, 60));
  });
});
