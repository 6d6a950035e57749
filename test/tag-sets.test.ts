import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalise, type SeriesBuilder } from '../src/ingest/normalise.js';
import { TagSets } from '../src/ingest/tag-sets.js';
import { TypeRegistry } from '../src/index.js';
import type { SeriesWrite } from '../src/store-api/contract.js';

const types = new TypeRegistry();
const contextWith = (tagSets: TagSets<SeriesBuilder>) => ({ types, defaultTtl: 0, tagSets });
const points = (s: SeriesWrite) => s.timestamps.map((t, i) => [t, s.values[i]]);

describe('tag sets kept across requests', () => {
  it('are kept from their second request on, sorted, frozen and inheriting nothing, with only each request’s points', () => {
    const tagSets = new TagSets<SeriesBuilder>();
    const context = contextWith(tagSets);
    const write = (tags: Record<string, string>, t: number) => normalise([{ name: 'm', tags, datapoints: [[t, t]] }], context)?.[0];
    const first = write({ host: 'a', dc: 'x' }, 1);
    assert.equal(tagSets.size, 0, 'not kept after one request');
    const second = write({ dc: 'x', host: 'a' }, 2);
    assert.equal(tagSets.size, 1, 'kept after the second');
    const third = write({ host: 'a', dc: 'x' }, 3);
    assert.ok(first && second && third);
    assert.notEqual(second.tags, first.tags);
    assert.equal(third.tags, second.tags, 'the kept tags object');
    assert.deepEqual(Object.keys(third.tags), ['dc', 'host']);
    assert.ok(Object.isFrozen(third.tags));
    assert.equal('toString' in third.tags, false);
    assert.deepEqual([first, second, third].map(points), [[[1, 1]], [[2, 2]], [[3, 3]]]);
  });

  it('that never repeat are not kept', () => {
    const tagSets = new TagSets<SeriesBuilder>();
    const context = contextWith(tagSets);
    for (let r = 0; r < 50; r++) {
      const body = Array.from({ length: 100 }, (_, i) => ({ name: 'm', tags: { host: `r${r}-h${i}` }, datapoints: [[1, i]] }));
      assert.equal(normalise(body, context)?.length, 100);
    }
    assert.ok(tagSets.size < 500, `kept ${tagSets.size} of 5,000 (only those whose hash bit another set had set)`);
  });

  it('forget the series of a rejected request', () => {
    const context = contextWith(new TagSets());
    assert.equal(normalise([{ name: 'm', tags: { host: 'a' }, datapoints: [[1, 1]] }, { name: '', tags: { host: 'a' } }], context), undefined);
    const series = normalise([{ name: 'm', tags: { host: 'a' }, datapoints: [[2, 2]] }], context);
    assert.deepEqual(series?.map(points), [[[2, 2]]]);
  });

  it('start again empty after a request that outgrew the capacity, merging one series across the whole request', () => {
    const tagSets = new TagSets<SeriesBuilder>(4);
    const context = contextWith(tagSets);
    const body = [
      { name: 'm', tags: { host: 'h0' }, datapoints: [[1, 1]] },
      ...Array.from({ length: 10 }, (_, i) => ({ name: 'm', tags: { host: `h${i + 1}` }, datapoints: [[1, i]] })),
      { name: 'm', tags: { host: 'h0' }, datapoints: [[1, 99], [2, 2]] },
    ];
    for (let request = 0; request < 2; request++) {
      const series = normalise(body, context);
      assert.equal(series?.length, 11);
      assert.deepEqual(series?.filter((s) => s.tags.host === 'h0').map(points), [[[1, 99], [2, 2]]]);
      assert.equal(tagSets.size, 0);
    }
    normalise([{ name: 'm', tags: { host: 'h0' }, datapoints: [[1, 1]] }], context);
    assert.equal(tagSets.size, 1);
  });

  it('match by value text, so a kept "Infinity" does not admit the number Infinity', () => {
    const context = contextWith(new TagSets());
    assert.ok(normalise([{ name: 'm', tags: { host: 'Infinity', n: '5' }, datapoints: [[1, 1]] }], context));
    const [series] = normalise([{ name: 'm', tags: { host: 'Infinity', n: 5 }, datapoints: [[1, 1]] }], context) ?? [];
    assert.deepEqual({ ...series?.tags }, { host: 'Infinity', n: '5' });
    assert.equal(normalise([{ name: 'm', tags: { host: Infinity, n: '5' }, datapoints: [[1, 1]] }], context), undefined);
  });

  it('keep a tag named __proto__ or constructor apart from a set without it', () => {
    const context = contextWith(new TagSets());
    const withProto = JSON.parse('[{"name":"m","tags":{"__proto__":"p","constructor":"c"},"datapoints":[[1,1]]}]');
    const [kept] = normalise(withProto, context) ?? [];
    assert.deepEqual(Object.entries(kept?.tags ?? {}), [['__proto__', 'p'], ['constructor', 'c']]);
    normalise(JSON.parse(JSON.stringify(withProto)), context);
    const [again] = normalise(JSON.parse(JSON.stringify(withProto)), context) ?? [];
    assert.deepEqual(Object.entries(again?.tags ?? {}), [['__proto__', 'p'], ['constructor', 'c']]);
    const [other] = normalise([{ name: 'm', tags: { constructor: 'c', x: 'p' }, datapoints: [[1, 1]] }], context) ?? [];
    assert.deepEqual(Object.entries(other?.tags ?? {}), [['constructor', 'c'], ['x', 'p']]);
  });

  it('find a kept set in any order of its pairs and keep sets that share a prefix apart', () => {
    const context = contextWith(new TagSets());
    const body = () => [
      { name: 'm', tags: { a: '1' }, datapoints: [[1, 1]] },
      { name: 'm', tags: { a: '1', b: '2' }, datapoints: [[2, 2]] },
      { name: 'm', tags: { b: 2, a: '1' }, datapoints: [[3, 3]] },
      { name: 'm', tags: { a: 1, b: '3' }, datapoints: [[4, 4]] },
    ];
    // Kept from the second request, found by hash in the third (paths are used from the fourth on).
    const requests = [0, 1, 2, 3, 4].map(() => normalise(body(), context) ?? []);
    for (const series of requests) {
      assert.deepEqual(
        series.map((s) => [{ ...s.tags }, points(s)]),
        [
          [{ a: '1' }, [[1, 1]]],
          [{ a: '1', b: '2' }, [[2, 2], [3, 3]]],
          [{ a: '1', b: '3' }, [[4, 4]]],
        ],
      );
    }
    for (const later of requests.slice(2)) assert.deepEqual(later.map((s) => s.tags), requests[1]?.map((s) => s.tags), 'the kept tags objects');
  });

  it('merge and keep a set sent in more orders than its paths have room for', () => {
    const tagSets = new TagSets<SeriesBuilder>(2);
    const context = contextWith(tagSets);
    const orders = permutations(['a', 'b', 'c', 'd']).map((names) => Object.fromEntries(names.map((n) => [n, n])));
    for (let request = 0; request < 3; request++) normalise([{ name: 'm', tags: orders[0], datapoints: [[0, 0]] }], context);
    for (let request = 0; request < 2; request++) {
      const series = normalise(orders.map((tags, i) => ({ name: 'm', tags, datapoints: [[i, i]] })), context);
      assert.equal(series?.length, 1, 'one series for all 24 orders');
      assert.equal(series?.[0]?.timestamps.length, 24);
      assert.equal(tagSets.size, 1, 'the paths have no more room (4 nodes × a capacity of 2), the kept set stays');
    }
  });

  it('forget the orders of their pairs when the cache starts again, so no order leads to a forgotten set', () => {
    const tagSets = new TagSets<SeriesBuilder>(1);
    const context = contextWith(tagSets);
    const send = (...tags: Record<string, string>[]) => normalise(tags.map((t, i) => ({ name: 'm', tags: t, datapoints: [[i, i]] })), context);
    const x = { a: '1', b: '2' };
    send(x);
    send(x); // x kept
    send(x, x, x, { z: '1' }, { z: '2' }); // x found by hash (paths in use from the next request); the z sets seen
    send(x, x, x, { z: '1' }, { z: '2' }); // x gets a path; the z sets kept: 3 > 1, the cache starts again
    assert.equal(tagSets.size, 0);
    assert.deepEqual(send(x, { b: '2', a: '1' })?.map(points), [[[0, 0], [1, 1]]]);
  });

  it('keep only small tag sets (at most 16 tags and 512 characters), and still merge large ones within a request', () => {
    const tagSets = new TagSets<SeriesBuilder>();
    const context = contextWith(tagSets);
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`t${i}`, 'v']));
    const long = { host: 'h'.repeat(509) }; // 4 + 509 = 513 characters
    const atLimit = { ...Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`t${i}`, 'v'])), host: 'h'.repeat(458) };
    const body = () => [many, long, atLimit, many, long].map((tags, i) => ({ name: 'm', tags, datapoints: [[i, i]] }));
    for (let request = 0; request < 3; request++) {
      const series = normalise(body(), context);
      assert.deepEqual(series?.map((s) => s.timestamps), [[0, 3], [1, 4], [2]]);
    }
    assert.equal(tagSets.size, 1, 'only the set of 16 tags and 512 characters is kept');
  });

  it('start again empty after a request that took the kept sets past 1 Mi characters', () => {
    const tagSets = new TagSets<SeriesBuilder>();
    const context = contextWith(tagSets);
    const body = (sets: number) => Array.from({ length: sets }, (_, i) => ({ name: 'm', tags: { host: String(i).padStart(508, '0') }, datapoints: [[1, 1]] }));
    for (let request = 0; request < 2; request++) normalise(body(2_048), context);
    assert.equal(tagSets.size, 2_048, '2,048 × 512 characters = 1 Mi: kept');
    normalise(body(2_049), context);
    assert.equal(tagSets.size, 2_048, 'one more set, seen for the first time');
    normalise(body(2_049), context);
    assert.equal(tagSets.size, 0, 'one more set kept: emptied');
  });

  it('never change what a request normalises to: any tags, orders and repeats give the series a fresh cache gives', () => {
    const pair = fc.tuple(fc.constantFrom('a', 'b', 'c', '__proto__'), fc.constantFrom('1', 1, 'x', true, 'true'));
    const tagSet = fc.uniqueArray(pair, { selector: ([name]) => name, minLength: 1, maxLength: 4 });
    const json = (pairs: [string, unknown][]) => {
      const tags: Record<string, unknown> = {};
      for (const [name, value] of pairs) Object.defineProperty(tags, name, { value, enumerable: true, writable: true, configurable: true });
      return tags;
    };
    // A few tag sets, each sent in any order of its pairs, in bodies that repeat, so sets are kept and found by path.
    const requests = fc.uniqueArray(tagSet, { minLength: 1, maxLength: 6 }).chain((sets) => {
      const tags = fc.nat(sets.length - 1).chain((k) => fc.shuffledSubarray(sets[k] as [string, unknown][], { minLength: (sets[k] as unknown[]).length }));
      const metric = fc.record({ name: fc.constantFrom('m', 'n'), tags: tags.map(json), datapoints: fc.constant([[1, 1]]) });
      return fc.array(fc.array(metric, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 3 });
    }).chain((bodies) => fc.array(fc.nat(bodies.length - 1), { minLength: 4, maxLength: 16 }).map((order) => order.map((k) => bodies[k])));
    const view = (series: SeriesWrite[] | undefined) => series?.map((s) => [s.metric, Object.entries(s.tags), points(s)]);
    fc.assert(
      fc.property(requests, fc.integer({ min: 1, max: 6 }), (bodies, capacity) => {
        const shared = contextWith(new TagSets(capacity));
        for (const body of bodies) {
          const copy = () => JSON.parse(JSON.stringify(body));
          assert.deepEqual(view(normalise(copy(), shared)), view(normalise(copy(), contextWith(new TagSets()))));
        }
      }),
      { numRuns: 500 },
    );
  });
});

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
