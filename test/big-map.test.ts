import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BigMap, BigSet, stringHash } from '../src/store-api/big-map.js';

describe('BigMap and BigSet (maps of millions without one long rehash)', () => {
  for (const sharded of [false, true]) it(`keeps every entry, its size and deletes ${sharded ? 'when started in shards' : 'across the split into shards'}`, () => {
    const map = new BigMap<string, number>(stringHash, sharded);
    const n = 100_000;
    for (let i = 0; i < n; i++) map.set(`k${i}`, i);
    map.set('k4', -4);
    assert.equal(map.size, n, 'setting a key again does not count it twice');
    assert.equal(map.get('k4'), -4);
    assert.equal(map.get(`k${n - 1}`), n - 1);
    assert.equal(map.has('nope'), false);
    for (let i = 0; i < n; i += 2) assert.equal(map.delete(`k${i}`), true);
    assert.equal(map.delete('k0'), false);
    assert.equal(map.size, n / 2);
    const keys = [...map.keys()];
    assert.equal(keys.length, n / 2);
    assert.equal(new Set(keys).size, n / 2);
    assert.equal([...map.values()].reduce((a, b) => a + b, 0), (n / 2) * (n / 2), 'the odd values 1 + 3 + … + 99,999');
    map.clear();
    assert.equal(map.size, 0);
    assert.equal(map.get('k1'), undefined);
    map.set('again', 1);
    assert.equal(map.get('again'), 1, 'usable after clear');
  });

  it('keeps insertion order while small; a set over it, with items hashed by the caller', () => {
    const map = new BigMap<string, number>(stringHash);
    for (const k of ['b', 'a', 'c']) map.set(k, 1);
    assert.deepEqual([...map.keys()], ['b', 'a', 'c']);
    const items = Array.from({ length: 40_000 }, (_, i) => ({ i }));
    const set = new BigSet<{ i: number }>((x) => x.i, items);
    assert.equal(set.size, 40_000);
    assert.equal(set.has(items[39_999] as { i: number }), true);
    assert.equal(set.has({ i: 1 }), false, 'by identity, the hash only picks the shard');
    set.delete(items[0] as { i: number });
    assert.equal([...set].length, 39_999);
  });

  it('hashes strings alike within a process', () => {
    assert.equal(stringHash('host=a'), stringHash('host=a'));
    assert.notEqual(stringHash('host=a'), stringHash('host=b'));
  });
});
