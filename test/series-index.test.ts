import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeriesIndex } from '../src/store-api/series-index.js';
import { tagsFrom } from '../src/store-api/series-key.js';

const tags = (pairs: Record<string, string>) => tagsFrom(Object.entries(pairs));

describe('SeriesIndex (the memory store\'s postings)', () => {
  it('selects from the smallest posting, a value held by one series or by many, as series come and go', () => {
    const index = new SeriesIndex<{ id: string }>((s) => s.id.charCodeAt(0));
    const a = { id: 'a' };
    const b = { id: 'b' };
    const c = { id: 'c' };
    index.add('m', tags({ host: 'x', id: 'a' }), a);
    index.add('m', tags({ host: 'x', id: 'b' }), b);
    index.add('m', tags({ host: 'y', id: 'c' }), c);
    index.add('m', tags({ host: 'x', id: 'a' }), a);
    const ids = (filter?: Record<string, string[]>) => [...index.select('m', filter)].map((s) => s.id).sort();
    assert.deepEqual(ids({ host: ['x'] }), ['a', 'b']);
    assert.deepEqual(ids({ host: ['x', 'y'], id: ['b', 'c'] }), ['b', 'c']);
    assert.deepEqual(ids({ id: ['a'], host: ['y'] }), []);
    assert.deepEqual(ids({ id: ['zzz'] }), []);
    assert.equal(index.count('m', { host: ['x'] }, 10), 2);
    assert.equal(index.count('m', undefined, 2), 2);
    index.remove('m', tags({ host: 'x', id: 'a' }), a);
    assert.deepEqual(ids({ host: ['x'] }), ['b'], 'a set of two back to its one series');
    index.add('m', tags({ host: 'x', id: 'd' }), { id: 'd' });
    assert.deepEqual(ids({ host: ['x'] }), ['b', 'd']);
    assert.deepEqual(index.namesWithTag('', 'id', 'c'), ['m']);
    index.remove('m', tags({ host: 'y', id: 'c' }), c);
    assert.deepEqual(index.namesWithTag('', 'id', 'c'), []);
    assert.deepEqual(ids({ host: ['y'] }), []);
    assert.deepEqual(index.names(), ['m']);
  });

  it('keeps names sorted and finds them by prefix', () => {
    const index = new SeriesIndex<number>((n) => n);
    for (const [i, name] of ['b.2', 'a', 'b.1', 'c', 'b'].entries()) index.add(name, tags({ h: 'x' }), i);
    assert.deepEqual(index.names(), ['a', 'b', 'b.1', 'b.2', 'c']);
    assert.deepEqual(index.names('b.'), ['b.1', 'b.2']);
    assert.deepEqual(index.names('zz'), []);
    index.remove('b.1', tags({ h: 'x' }), 2);
    assert.deepEqual(index.names('b'), ['b', 'b.2']);
  });

  it('selects the same series from postings past the size where their maps split into shards', () => {
    const index = new SeriesIndex<number>((n) => n);
    const n = 70_000;
    for (let i = 0; i < n; i++) index.add('m', tags({ id: String(i), host: `h${i % 7}`, all: 'x' }), i);
    assert.deepEqual([...index.select('m', { id: ['69999'] })], [69_999]);
    assert.equal([...index.select('m', { host: ['h3'], all: ['x'] })].length, 10_000);
    assert.equal(index.count('m', undefined, Infinity), n);
    for (let i = 0; i < n; i += 2) index.remove('m', tags({ id: String(i), host: `h${i % 7}`, all: 'x' }), i);
    assert.equal(index.count('m', { all: ['x'] }, Infinity), n / 2);
    assert.deepEqual([...index.select('m', { id: ['69998', '69999'] })], [69_999]);
  });
});
