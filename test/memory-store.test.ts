import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../src/index.js';
import { series, storeConformanceSuite } from '../src/store-api/conformance.js';

let now = 1_700_000_000_000;
storeConformanceSuite('MemoryStore', {
  create: async () => new MemoryStore({ clock: () => now }),
  advance: (ms) => {
    now += ms;
  },
});

describe('MemoryStore, one tag-set object sent again (as the ingest path hands it out)', () => {
  async function pointsOf(store: MemoryStore, metric: string): Promise<[number, unknown][]> {
    const got: [number, unknown][] = [];
    for await (const s of store.read({ metric })) for await (const page of s.points()) for (let i = 0; i < page.timestamps.length; i++) got.push([page.timestamps[i] as number, page.values[i]]);
    return got;
  }

  it('finds the series again after a delete emptied it, and keeps series of other metrics and types apart', async () => {
    const store = new MemoryStore();
    const write = series('m', { host: 'a' }, [[1, 1]]);
    Object.freeze(write.tags);
    await store.write([write]);
    await store.delete({ metric: 'm' });
    await store.write([{ ...write, timestamps: [2], values: [2] }]);
    assert.deepEqual(await pointsOf(store, 'm'), [[2, 2]]);
    await store.write([{ ...write, metric: 'other', timestamps: [3], values: [3] }, { ...write, type: 'string', storage: 'string', timestamps: [4], values: ['x'] }]);
    assert.deepEqual(await pointsOf(store, 'other'), [[3, 3]]);
    assert.deepEqual(await pointsOf(store, 'm'), [[2, 2], [4, 'x']]);
    assert.deepEqual(await store.stats(), { series: 3, points: 3 });
  });
});

describe('MemoryStore, a write of many new series (turns for the event loop between slices)', () => {
  it('keeps every point when a delete of the whole metric comes during its turns', async () => {
    const store = new MemoryStore();
    const many = Array.from({ length: 3000 }, (_, i) => series('m', { id: String(i) }, [[1, i]]));
    const writing = store.write(many);
    // In the write's first turn (1,000 series added so far).
    await new Promise((resolve) => setImmediate(resolve));
    await store.delete({ metric: 'm' });
    await writing;
    let n = 0;
    for await (const s of store.read({ metric: 'm' })) for await (const page of s.points()) n += page.timestamps.length;
    assert.equal(n, 3000);
  });
});
