import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeriesMap } from '../src/store-api/series-map.js';
import { tagsFrom } from '../src/store-api/series-key.js';

const frozen = (pairs: Record<string, string>) => Object.freeze(tagsFrom(Object.entries(pairs)));

describe('SeriesMap (series by metric, type and tags, found through the tag-set object)', () => {
  it('finds a series through any object with its tags, and keeps metrics and types apart', () => {
    const map = new SeriesMap<string>();
    const tags = frozen({ host: 'a', dc: 'x' });
    map.set('m', 'long', tags, 'm long');
    map.set('m', 'double', tags, 'm double');
    map.set('n', 'long', tags, 'n long');
    assert.equal(map.get('m', 'long', tags), 'm long');
    assert.equal(map.get('m', 'double', tags), 'm double');
    assert.equal(map.get('n', 'long', tags), 'n long');
    assert.equal(map.get('m', 'long', tagsFrom([['dc', 'x'], ['host', 'a']])), 'm long', 'an equal, unfrozen tag set');
    assert.equal(map.get('m', 'long', frozen({ dc: 'x', host: 'a' })), 'm long', 'an equal, frozen tag set');
    assert.equal(map.get('m', 'long', frozen({ host: 'b', dc: 'x' })), undefined);
    assert.equal(map.get('m', 'string', tags), undefined);
    assert.deepEqual([...map.values()].sort(), ['m double', 'm long', 'n long']);
  });

  it('forgets a deleted series through every object that led to it', () => {
    const map = new SeriesMap<number>();
    const first = frozen({ host: 'a' });
    const second = frozen({ host: 'a' });
    map.set('m', 'long', first, 1);
    assert.equal(map.get('m', 'long', second), 1);
    map.delete('m', 'long', first);
    assert.equal(map.get('m', 'long', first), undefined);
    assert.equal(map.get('m', 'long', second), undefined);
    map.set('m', 'long', second, 2);
    assert.equal(map.get('m', 'long', first), 2);
    map.clear();
    assert.equal(map.get('m', 'long', first), undefined);
    assert.deepEqual([...map.values()], []);
  });

  it('with maxKeys, keeps at most that many by key (two generations), the most recent found, a value used again kept', () => {
    const map = new SeriesMap<number>(4);
    const tags = (i: number) => tagsFrom([['id', String(i)]]);
    for (let i = 0; i < 3; i++) map.set('m', 'long', tags(i), i);
    assert.equal(map.get('m', 'long', tags(0)), 0, 'the older generation is still asked');
    for (let i = 3; i < 10; i++) map.set('m', 'long', tags(i), i);
    assert.equal(map.get('m', 'long', tags(9)), 9);
    assert.equal(map.get('m', 'long', tags(8)), 8);
    assert.equal(map.get('m', 'long', tags(1)), undefined, 'dropped with its generation');
  });
});
