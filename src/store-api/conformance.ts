import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StorageKind, StoredValue } from '../types/value-type.js';
import type { SeriesQuery, SeriesWrite, Store } from './contract.js';
import { tagsFrom } from './series-key.js';

/** How the conformance suite gets a store to test. */
export interface ConformanceTarget {
  /** A fresh, empty store. */
  create(): Promise<Store>;
  /** Moves the store's clock forward (stores with an injected clock); without it the suite waits. */
  advance?(ms: number): void;
}

/** A series as the suite writes it: tags in any order, values as stored. */
export function series(
  metric: string,
  tags: Record<string, string>,
  points: [number, StoredValue][],
  options: { type?: string; storage?: StorageKind; ttl?: number } = {},
): SeriesWrite {
  const storage = options.storage ?? 'long';
  return {
    metric,
    tags: tagsFrom(Object.entries(tags)),
    type: options.type ?? storage,
    storage,
    ttl: options.ttl ?? 0,
    timestamps: points.map((p) => p[0]),
    values: points.map((p) => p[1]),
  };
}

/** Everything a store returns for a query, as plain data sorted by tags and type. */
export async function readAll(store: Store, query: SeriesQuery) {
  const out: { tags: Record<string, string>; type: string; storage: StorageKind; points: [number, StoredValue][] }[] = [];
  for await (const s of store.read(query)) {
    const points: [number, StoredValue][] = [];
    for await (const page of s.points()) {
      for (let i = 0; i < page.timestamps.length; i++) points.push([page.timestamps[i] as number, page.values[i] as StoredValue]);
    }
    out.push({ tags: { ...s.tags }, type: s.type, storage: s.storage, points });
  }
  return out.sort((a, b) => (JSON.stringify([a.tags, a.type]) < JSON.stringify([b.tags, b.type]) ? -1 : 1));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The shared store conformance suite (node:test): every store must pass it.
 * @example
 * storeConformanceSuite('MemoryStore', { create: async () => new MemoryStore() });
 */
export function storeConformanceSuite(name: string, target: ConformanceTarget): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    let n = 0;
    const metric = () => `conformance.metric.${++n}`;
    before(async () => {
      store = await target.create();
    });
    after(async () => {
      await store.close();
    });

    it('reads back what it wrote, in time order', async () => {
      const m = metric();
      await store.write([series(m, { host: 'a' }, [[30, 3], [10, 1], [20, 2]])]);
      assert.deepEqual(await readAll(store, { metric: m }), [
        { tags: { host: 'a' }, type: 'long', storage: 'long', points: [[10, 1], [20, 2], [30, 3]] },
      ]);
    });

    it('keeps every storage kind exactly', async () => {
      const m = metric();
      const bytes = Uint8Array.from([0, 1, 2, 254, 255]);
      await store.write([
        series(m, { k: 'long' }, [[1, Number.MAX_SAFE_INTEGER], [2, -Number.MAX_SAFE_INTEGER], [3, 0]]),
        series(m, { k: 'double' }, [[1, 0.1], [2, -1e300], [3, 5e-324]], { storage: 'double' }),
        series(m, { k: 'string' }, [[1, ''], [2, 'héllo 世界 🎉'], [3, 'a\u0000b']], { storage: 'string' }),
        series(m, { k: 'bytes' }, [[1, bytes]], { storage: 'bytes', type: 'complex-number' }),
      ]);
      const got = await readAll(store, { metric: m });
      assert.deepEqual(
        got.map((s) => [s.tags.k, s.type, s.storage]),
        [['bytes', 'complex-number', 'bytes'], ['double', 'double', 'double'], ['long', 'long', 'long'], ['string', 'string', 'string']],
      );
      assert.deepEqual(got[1]?.points, [[1, 0.1], [2, -1e300], [3, 5e-324]]);
      assert.deepEqual(got[2]?.points, [[1, Number.MAX_SAFE_INTEGER], [2, -Number.MAX_SAFE_INTEGER], [3, 0]]);
      assert.deepEqual(got[3]?.points, [[1, ''], [2, 'héllo 世界 🎉'], [3, 'a\u0000b']]);
      assert.deepEqual([...((got[0]?.points[0]?.[1] as Uint8Array) ?? [])], [...bytes]);
    });

    it('keeps longs beyond ±(2^53−1) exactly (BigInts), beside safe ones, through overwrites and in both read orders', async () => {
      const m = metric();
      const MAX = 2n ** 63n - 1n;
      const MIN = -(2n ** 63n);
      const points: [number, StoredValue][] = [[1, MAX], [2, MIN], [3, 9007199254740993n], [4, -9007199254740993n], [5, 7], [6, Number.MAX_SAFE_INTEGER]];
      await store.write([series(m, { h: 'a' }, points)]);
      assert.deepEqual((await readAll(store, { metric: m }))[0]?.points, points);
      // A BigInt replaced by a small long and the other way round, in a later request.
      await store.write([series(m, { h: 'a' }, [[3, 3], [5, MAX - 1n]])]);
      const after: [number, StoredValue][] = [[1, MAX], [2, MIN], [3, 3], [4, -9007199254740993n], [5, MAX - 1n], [6, Number.MAX_SAFE_INTEGER]];
      assert.deepEqual((await readAll(store, { metric: m }))[0]?.points, after);
      assert.deepEqual((await readAll(store, { metric: m, order: 'desc' }))[0]?.points, [...after].reverse());
    });

    it('replaces a point written again with the same series, type and timestamp', async () => {
      const m = metric();
      await store.write([series(m, { h: 'a' }, [[1, 1], [2, 2]])]);
      await store.write([series(m, { h: 'a' }, [[2, 20], [3, 30]])]);
      assert.deepEqual((await readAll(store, { metric: m }))[0]?.points, [[1, 1], [2, 20], [3, 30]]);
    });

    it('keeps points of different types at one timestamp apart', async () => {
      const m = metric();
      await store.write([
        series(m, { h: 'a' }, [[5, 1]]),
        series(m, { h: 'a' }, [[5, 'one']], { storage: 'string' }),
      ]);
      const got = await readAll(store, { metric: m });
      assert.deepEqual(got.map((s) => [s.type, s.points]), [['long', [[5, 1]]], ['string', [[5, 'one']]]]);
    });

    it('treats tags as a set and __proto__ or constructor as ordinary tag names', async () => {
      const m = metric();
      const tags: Record<string, string> = Object.create(null);
      tags['__proto__'] = 'p';
      tags['constructor'] = 'c';
      tags['z'] = 'z';
      await store.write([series(m, tags, [[1, 1]])]);
      const got = await readAll(store, { metric: m, tags: JSON.parse('{"__proto__":["p"]}') });
      assert.equal(got.length, 1);
      assert.deepEqual(Object.entries(got[0]?.tags ?? {}), [['__proto__', 'p'], ['constructor', 'c'], ['z', 'z']]);
      assert.equal(Object.getPrototypeOf({}), Object.prototype);
    });

    it('filters by tags: values of one tag are OR, several tags are AND', async () => {
      const m = metric();
      await store.write([
        series(m, { host: 'a', dc: '1' }, [[1, 1]]),
        series(m, { host: 'b', dc: '1' }, [[1, 2]]),
        series(m, { host: 'c', dc: '2' }, [[1, 3]]),
        series(m, { dc: '1' }, [[1, 4]]),
      ]);
      const hosts = async (tags: Record<string, string[]>) =>
        (await readAll(store, { metric: m, tags })).map((s) => s.tags.host ?? '-').sort();
      assert.deepEqual(await hosts({ host: ['a', 'b'] }), ['a', 'b']);
      assert.deepEqual(await hosts({ host: ['a', 'c'], dc: ['1'] }), ['a']);
      assert.deepEqual(await hosts({ dc: ['1'] }), ['-', 'a', 'b']);
      assert.deepEqual(await hosts({ host: ['x'] }), []);
      assert.deepEqual(await hosts({}), ['-', 'a', 'b', 'c']);
    });

    it('reads an inclusive time range, negative and zero timestamps included', async () => {
      const m = metric();
      await store.write([series(m, { h: 'a' }, [[-5, 1], [0, 2], [5, 3], [10, 4]])]);
      const got = await readAll(store, { metric: m, start: -5, end: 5 });
      assert.deepEqual(got[0]?.points, [[-5, 1], [0, 2], [5, 3]]);
      assert.deepEqual(await readAll(store, { metric: m, start: 11, end: 20 }), []);
    });

    it('reads points in descending order when asked', async () => {
      const m = metric();
      await store.write([series(m, { h: 'a' }, [[-5, 1], [0, 2], [5, 3], [86_400_000 * 3, 4]])]);
      const got = await readAll(store, { metric: m, order: 'desc' });
      assert.deepEqual(got[0]?.points, [[86_400_000 * 3, 4], [5, 3], [0, 2], [-5, 1]]);
      assert.deepEqual((await readAll(store, { metric: m, start: -5, end: 5, order: 'desc' }))[0]?.points, [[5, 3], [0, 2], [-5, 1]]);
    });

    it('writes and reads 10,000 points of one series in one request', async () => {
      const m = metric();
      const points: [number, number][] = Array.from({ length: 10_000 }, (_, i) => [1_700_000_000_000 + i * 1000, i]);
      await store.write([series(m, { h: 'a' }, points)]);
      assert.deepEqual((await readAll(store, { metric: m }))[0]?.points, points);
    });

    it('lists metric names sorted, optionally by prefix', async () => {
      const names = ['names.b', 'names.a', 'names.c.x'];
      for (const name of names) await store.write([series(name, { h: 'a' }, [[1, 1]])]);
      const listed = await store.metricNames('names.');
      assert.deepEqual(listed, ['names.a', 'names.b', 'names.c.x']);
      assert.deepEqual(await store.metricNames('names.c'), ['names.c.x']);
      assert.ok((await store.metricNames()).includes('names.a'));
    });

    it('deletes a time range of selected series, and whole metrics', async () => {
      const m = metric();
      await store.write([
        series(m, { h: 'a' }, [[1, 1], [2, 2], [3, 3]]),
        series(m, { h: 'b' }, [[1, 1], [2, 2], [3, 3]]),
      ]);
      await store.delete({ metric: m, start: 2, end: 3, tags: { h: ['a'] } });
      const got = await readAll(store, { metric: m });
      assert.deepEqual(got.map((s) => s.points), [[[1, 1]], [[1, 1], [2, 2], [3, 3]]]);
      await store.delete({ metric: m });
      assert.deepEqual(await readAll(store, { metric: m }), []);
      assert.ok(!(await store.metricNames(m)).includes(m));
    });

    it('accepts an empty write and answers ping', async () => {
      await store.write([]);
      await store.ping();
    });

    it('expires points after their TTL when it supports TTL', async (t) => {
      if (!store.capabilities.ttl) return t.skip('the store does not support TTL');
      const m = metric();
      // Expiry is kept in whole seconds (as Cassandra keeps it, counted from the second the write lands): a TTL of 2 s
      // lives between 1 and 3 s — 1 s would leave a read right after the write a chance to find the point gone.
      await store.write([series(m, { h: 'a' }, [[1, 1]], { ttl: 2 }), series(m, { h: 'b' }, [[1, 2]])]);
      assert.equal((await readAll(store, { metric: m })).length, 2);
      if (target.advance) target.advance(3000);
      else await sleep(3500);
      assert.deepEqual((await readAll(store, { metric: m })).map((s) => s.tags.h), ['b']);
    });

    it('yields each point\'s expiry when a read asks (expiry: true), in either order, and none unasked', async (t) => {
      if (!store.capabilities.ttl) return t.skip('the store does not support TTL');
      const m = metric();
      const at = Date.now();
      await store.write([series(m, { h: 'a' }, [[at, 1], [at + 1, 2]], { ttl: 3600 }), series(m, { h: 'b' }, [[at, 3]], { ttl: 7200 }), series(m, { h: 'c' }, [[at, 4]])]);
      const expiries = async (order: 'asc' | 'desc') => {
        const found: Record<string, number[]> = {};
        for await (const s of store.read({ metric: m, expiry: true, order })) {
          const list: number[] = (found[s.tags.h as string] = []);
          for await (const page of s.points()) {
            assert.equal(page.expires?.length, page.timestamps.length);
            list.push(...Array.from(page.expires ?? []));
          }
        }
        return found;
      };
      for (const order of ['asc', 'desc'] as const) {
        const { a = [], b = [], c = [] } = await expiries(order);
        assert.equal(a.length, 2);
        // Kept in whole seconds (Cassandra's TTL), so within a second or two of each other.
        assert.ok(Math.abs((a[0] as number) - (a[1] as number)) <= 1000, `${a}`);
        assert.ok(Math.abs((b[0] as number) - (a[0] as number) - 3_600_000) <= 2000, `${a} ${b}`);
        assert.deepEqual(c, [0]);
        if (!target.advance) assert.ok(Math.abs((a[0] as number) - (at + 3_600_000)) <= 5000, `${a[0]} vs ${at + 3_600_000}`);
      }
      for await (const s of store.read({ metric: m })) for await (const page of s.points()) assert.equal(page.expires, undefined);
    });

    it('finds series by tag among thousands (postings intersected), counts a selection from the index, lists names by prefix and by tag', async () => {
      const m = metric();
      const other = `${m}.other`;
      const host = (i: number) => `h${i % 7}`;
      for (let k = 0; k < 3; k++) {
        await store.write(Array.from({ length: 1000 }, (_, j) => series(m, { id: String(k * 1000 + j), host: host(k * 1000 + j) }, [[1000, k * 1000 + j]])));
      }
      await store.write([series(other, { id: '17', host: 'h3', tenant: 'b' }, [[1000, -1]])]);
      const ids = async (tags: Record<string, string[]>) => (await readAll(store, { metric: m, tags })).map((s) => s.tags.id).sort();
      assert.deepEqual(await ids({ id: ['17'] }), ['17']);
      assert.deepEqual(await ids({ host: ['h3'], id: ['17', '24', '25'] }), ['17', '24']);
      assert.deepEqual(await ids({ id: ['17', '2999'] }), ['17', '2999']);
      assert.deepEqual(await ids({ host: ['nope'] }), []);
      assert.deepEqual(await ids({ id: ['17'], missing: ['x'] }), []);
      assert.deepEqual((await readAll(store, { metric: m, tags: { id: ['17'] } }))[0]?.points, [[1000, 17]]);
      if (store.countSeries) {
        assert.equal(await store.countSeries({ metric: m, tags: { id: ['17'] } }, 100), 1);
        assert.equal(await store.countSeries({ metric: m, tags: { host: ['h3'] } }, 100), 100, 'counts no further than atMost');
        assert.equal(await store.countSeries({ metric: m, tags: { host: ['h3'], id: ['17', '24', '25'] } }, 100), 2);
        assert.equal(await store.countSeries({ metric: m }, 10_000), 3000);
        assert.equal(await store.countSeries({ metric: m, tags: { host: [] } }, 10_000), 3000, 'a tag listed with no values does not filter');
        assert.equal(await store.countSeries({ metric: `${m}.none` }, 10), 0);
      }
      assert.deepEqual(await store.metricNames(m), [m, other]);
      assert.deepEqual(await store.metricNames(`${m}.zzz`), []);
      if (store.metricNamesWithTag) {
        assert.deepEqual(await store.metricNamesWithTag(m, 'tenant', 'b'), [other]);
        assert.deepEqual(await store.metricNamesWithTag(m, 'host', 'h3'), [m, other]);
        assert.deepEqual(await store.metricNamesWithTag(m, 'tenant', 'zzz'), []);
      }
      await store.delete({ metric: other });
      assert.deepEqual(await store.metricNames(m), [m]);
      if (store.metricNamesWithTag) assert.deepEqual(await store.metricNamesWithTag(m, 'tenant', 'b'), []);
    });

    it('sets coordination values only by compare-and-set: once among concurrent callers, removed the same way', async (t) => {
      const shared = store.coordination;
      if (!shared) return t.skip('the store keeps no coordination values');
      const name = `conformance.lease.${++n}`;
      assert.equal(await shared.get(name), undefined);
      const takers = await Promise.all(['a', 'b', 'c', 'd'].map((holder) => shared.compareAndSet(name, undefined, holder)));
      assert.equal(takers.filter(Boolean).length, 1, 'exactly one of four concurrent takers wins');
      const holder = ['a', 'b', 'c', 'd'][takers.indexOf(true)] as string;
      assert.equal(await shared.get(name), holder);
      assert.equal(await shared.compareAndSet(name, undefined, 'e'), false, 'taken: a taker expecting none fails');
      assert.equal(await shared.compareAndSet(name, 'not-the-holder', 'e'), false);
      assert.equal(await shared.get(name), holder);
      const next = `${holder}|é "2"`;
      assert.equal(await shared.compareAndSet(name, holder, next), true);
      assert.equal(await shared.get(name), next);
      assert.equal(await shared.compareAndSet(name, holder, undefined), false, 'a stale holder cannot remove it');
      assert.equal(await shared.compareAndSet(name, next, undefined), true);
      assert.equal(await shared.get(name), undefined);
      assert.equal(await shared.compareAndSet(name, undefined, undefined), true, 'none expected, none there');
      assert.equal(await shared.compareAndSet(name, undefined, 'again'), true, 'removed: it can be taken again');
    });

    it('keeps metadata by service, service key and key, lists them sorted, replaces and deletes values', async (t) => {
      const meta = store.metadata;
      if (!meta) return t.skip('the store keeps no metadata');
      const svc = `conformance.service.${++n}`;
      await meta.set(svc, 'disk.available', 'unit', 'MB');
      await meta.set(svc, 'disk.available', 'owner', 'ops');
      await meta.set(svc, 'foo.throughput', 'unit', 'bytes');
      await meta.set(`${svc}.other`, 'x', 'y', 'z');
      assert.equal(await meta.get(svc, 'disk.available', 'unit'), 'MB');
      assert.equal(await meta.get(svc, 'disk.available', 'nope'), undefined);
      assert.deepEqual(await meta.serviceKeys(svc), ['disk.available', 'foo.throughput']);
      assert.deepEqual(await meta.keys(svc, 'disk.available'), ['owner', 'unit']);
      assert.deepEqual(await meta.keys(svc, 'nothing'), []);
      await meta.set(svc, 'disk.available', 'unit', 'GB ✓ "quoted"\nline two');
      assert.equal(await meta.get(svc, 'disk.available', 'unit'), 'GB ✓ "quoted"\nline two');
      await meta.set(svc, 'foo.throughput', 'empty', '');
      assert.equal(await meta.get(svc, 'foo.throughput', 'empty'), '');
      await meta.delete(svc, 'foo.throughput', 'unit');
      await meta.delete(svc, 'foo.throughput', 'empty');
      await meta.delete(svc, 'foo.throughput', 'never-set');
      assert.deepEqual(await meta.serviceKeys(svc), ['disk.available']);
      assert.deepEqual(await meta.serviceKeys(`${svc}.other`), ['x']);
      assert.deepEqual(await meta.serviceKeys(`${svc}.none`), []);
      if (meta.count) {
        await meta.set(svc, 'disk.used', 'unit', 'MB');
        assert.equal(await meta.count(svc, 100), 3);
        assert.equal(await meta.count(svc, 2), 2, 'counts no further than atMost');
        assert.equal(await meta.count(`${svc}.none`, 100), 0);
      }
    });
  });
}
