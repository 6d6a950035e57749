import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pacedSort } from '../src/query/paced-sort.js';

describe('pacedSort', () => {
  it('sorts as a stable native sort does, at every size around its run length, and gives turns on large inputs', async () => {
    for (const n of [0, 1, 5, 2047, 2048, 2049, 4097, 10_000, 50_001]) {
      const items = Array.from({ length: n }, (_, i) => ({ key: Math.floor(Math.abs(Math.sin(i * 7919)) * n / 3), i }));
      let turns = 0;
      const sorted = await pacedSort(items.slice(), (a, b) => a.key - b.key, () => {
        turns++;
        return undefined;
      });
      const expected = items.slice().sort((a, b) => a.key - b.key || a.i - b.i);
      assert.deepEqual(sorted, expected, `n = ${n}`);
      if (n > 10_000) assert.ok(turns >= n / 8192, `n = ${n}: ${turns} turns`);
    }
  });
});
