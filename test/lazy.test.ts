import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lazyStore } from '../src/store-api/lazy.js';
import { readAll, series } from '../src/store-api/conformance.js';
import { MemoryStore } from '../src/stores/memory.js';

describe('lazyStore (a store created on first use)', () => {
  it('loads once, on the first call, and passes every call through', async () => {
    let loads = 0;
    const inner = new MemoryStore();
    const store = lazyStore(async () => (loads++, inner), { ttl: true, persistent: false });
    assert.equal(loads, 0);
    await Promise.all([store.write([series('m', { h: 'a' }, [[1, 1]])]), store.ping(), store.metricNames()]);
    assert.equal(loads, 1);
    assert.deepEqual(await store.metricNames(), ['m']);
    assert.equal((await readAll(store, { metric: 'm' }))[0]?.points.length, 1);
    await store.delete({ metric: 'm' });
    assert.deepEqual(await inner.metricNames(), []);
  });

  it('tries loading again after a failed load, and init() runs the loaded store\'s init (or ping)', async () => {
    let attempt = 0;
    let inits = 0;
    const store = lazyStore(async () => {
      if (++attempt === 1) throw new Error('driver missing');
      return Object.assign(new MemoryStore(), { init: async () => void inits++ });
    }, { ttl: true, persistent: false });
    await assert.rejects(store.ping(), /driver missing/);
    await store.init?.();
    assert.deepEqual([attempt, inits], [2, 1]);
  });

  it('closes nothing it never loaded, and closes what it loaded', async () => {
    let loaded = false;
    const idle = lazyStore(async () => ((loaded = true), new MemoryStore()), { ttl: true, persistent: false });
    await idle.close();
    assert.equal(loaded, false);
    const inner = new MemoryStore();
    const used = lazyStore(async () => inner, { ttl: true, persistent: false });
    await used.ping();
    await used.close();
    await assert.rejects(inner.ping(), (e: { unavailable?: boolean }) => e.unavailable === true);
  });
});
