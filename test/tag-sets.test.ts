import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalise, type SeriesBuilder } from '../src/ingest/normalise.js';
import { TagSets } from '../src/ingest/tag-sets.js';
import { TypeRegistry } from '../src/index.js';
import type { SeriesWrite } from '../src/store/contract.js';

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
});
