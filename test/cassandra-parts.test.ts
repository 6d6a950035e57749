import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Limiter } from '../src/stores/cassandra/limiter.js';
import { Lru } from '../src/stores/cassandra/lru.js';
import { indexTtl, outlives, pointTtl } from '../src/stores/cassandra/ttl.js';

describe('Cassandra store parts', () => {
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
