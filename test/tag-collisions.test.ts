import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalise, type SeriesBuilder } from '../src/ingest/normalise.js';
import { pairHash, TagSets } from '../src/ingest/tag-sets.js';
import type { SeriesWrite } from '../src/store-api/contract.js';
import { TypeRegistry } from '../src/index.js';

/** FNV-1a state after a name, the separator and a value prefix (as pairHash runs it). */
function stateAfter(name: string, prefix: string): number {
  let h = 0x811c9dc5;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  h = Math.imul(h ^ 0xffff, 0x01000193);
  for (const c of prefix) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return h;
}

/** A value prefix after which the low 8 bits of the state are 0, so appending char c adds exactly c before the last multiply. */
function alignedPrefix(name: string): string {
  for (let i = 0; ; i++) if ((stateAfter(name, `p${i}`) & 0xff) === 0) return `p${i}`;
}

/** 20 tag sets with one hash (beyond the chain cap), and a body that sends each once and set 15 again at the end. */
function collidingBody() {
  const a = alignedPrefix('a');
  const b = alignedPrefix('b');
  const sets = Array.from({ length: 20 }, (_, i) => ({ a: a + String.fromCharCode(65 + i), b: b + String.fromCharCode(120 - i) }));
  const sums = new Set(sets.map((t) => (pairHash('a', t.a) + pairHash('b', t.b)) | 0));
  assert.equal(sums.size, 1, 'the crafted tag sets must share one hash');
  const body = [
    ...sets.map((tags, i) => ({ name: 'm', tags, datapoints: [[1, i]] })),
    { name: 'm', tags: sets[15], datapoints: [[1, 1000], [2, 2]] },
  ];
  return { sets, body };
}

function assertMerged(series: SeriesWrite[] | undefined, sets: { a: string; b: string }[]): void {
  assert.ok(series);
  assert.equal(series.length, 20);
  const byTags = new Map(series.map((s) => [JSON.stringify(s.tags), s]));
  sets.forEach((tags, i) => {
    const s = byTags.get(JSON.stringify({ a: tags.a, b: tags.b }));
    assert.ok(s, `series ${i}`);
    assert.deepEqual([s.timestamps, s.values], i === 15 ? [[1, 2], [1000, 2]] : [[1], [i]]);
  });
}

describe('tag sets with colliding hashes', () => {
  it('stay apart beyond the hash chain cap, and equal ones still merge', () => {
    const { sets, body } = collidingBody();
    assertMerged(normalise(body, { types: new TypeRegistry(), defaultTtl: 0 }), sets);
  });

  it('stay apart and merge in every request while they move from unkept to kept', () => {
    const { sets, body } = collidingBody();
    const tagSets = new TagSets<SeriesBuilder>();
    const context = { types: new TypeRegistry(), defaultTtl: 0, tagSets };
    for (let request = 0; request < 3; request++) {
      assertMerged(normalise(structuredClone(body), context), sets);
      assert.equal(tagSets.size, request === 0 ? 0 : 20, `kept after request ${request + 1}`);
    }
  });

  it('count the characters of a kept set beyond the chain cap once, however often it is sent', () => {
    const { sets, body } = collidingBody();
    const tagSets = new TagSets<SeriesBuilder>();
    const context = { types: new TypeRegistry(), defaultTtl: 0, tagSets };
    for (let request = 0; request < 2; request++) normalise(structuredClone(body), context);
    assert.equal(tagSets.size, 20);
    // Set 15 sits in the exact map (past the chain cap of 8); 100,000 × its characters is far past the 1 Mi bound.
    const repeated = Array.from({ length: 100_000 }, (_, i) => ({ name: 'm', tags: { ...sets[15] }, datapoints: [[i, i]] }));
    assert.equal(normalise(repeated, context)?.[0]?.timestamps.length, 100_000);
    assert.equal(tagSets.size, 20, 'still kept');
  });
});
