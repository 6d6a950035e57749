// The compaction's move plan (src/stores/sqlite/move-plan.ts): the series waiting in a set of batches, in order of
// first appearance, each with its parts oldest first — checked against a reference built with a Map, for batches of
// new series (ids rising: the plan's shortcut) and for ids in any order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DIRECTORY_FIELDS as F } from '../src/stores/sqlite/batch.js';
import type { CachedBatch } from '../src/stores/sqlite/batch-cache.js';
import { MovePlan } from '../src/stores/sqlite/move-plan.js';

/** A batch of entries (series id, points), some already taken. */
function batch(seq: number, entries: readonly [number, number][], taken: readonly boolean[] = []): CachedBatch {
  const fields = new Float64Array(entries.length * F);
  entries.forEach(([id, points], i) => {
    fields[i * F] = id;
    fields[i * F + 3] = points;
  });
  return { seq, fields, taken: Uint8Array.from(entries, (_, i) => (taken[i] ? 1 : 0)), pieces: new Map(), dirBytes: 0, dataBytes: 0 };
}

/** What the plan gives: each series with its parts as [batch, entry], in order. */
function reference(batches: readonly CachedBatch[]): [number, [number, number][]][] {
  const bySeries = new Map<number, [number, number][]>();
  batches.forEach(({ fields, taken }, b) => {
    for (let i = 0; i < taken.length; i++) {
      if (taken[i]) continue;
      const id = fields[i * F] as number;
      bySeries.set(id, [...(bySeries.get(id) ?? []), [b, i]]);
    }
  });
  return [...bySeries];
}

const planned = (plan: MovePlan) => plan.take(Number.MAX_SAFE_INTEGER).map(({ id, parts }): [number, [number, number][]] => [id, parts.map((p) => [p.batch, p.entry])]);

describe('MovePlan', () => {
  it('gives the series of batches of new series (ids rising) in order, each once', () => {
    const batches = [batch(1, [[5, 1], [6, 2], [9, 1]], [false, true]), batch(2, [[10, 1], [11, 3]])];
    const plan = new MovePlan(batches);
    assert.equal(plan.series, 4);
    assert.equal(plan.waiting, 1 + 1 + 1 + 3);
    assert.deepEqual(planned(plan), reference(batches));
  });

  it('gives every series in order of first appearance with its parts oldest first, whatever the ids', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 5 }), fc.boolean()), { maxLength: 20 }), { maxLength: 6 }), fc.boolean(), (shapes, huge) => {
        // Ids near 2^40 too: the plan's table hashes both halves of an id.
        const batches = shapes.map((entries, b) => batch(b + 1, entries.map(([id, n]) => [huge ? 2 ** 40 + id * 2 ** 33 : id, n]), entries.map(([, , t]) => t)));
        const plan = new MovePlan(batches);
        const expected = reference(batches);
        assert.equal(plan.series, expected.length);
        assert.deepEqual(planned(plan), expected);
      }),
    );
  });
});
