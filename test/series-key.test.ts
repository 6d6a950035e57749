import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { tagsKey } from '../src/store-api/series-key.js';

describe('tagsKey', () => {
  it('spells JSON.stringify(Object.entries(tags)) for any names and values (quotes, controls, lone surrogates), frozen or not', () => {
    // Any UTF-16 code units, lone surrogates included, and the characters JSON escapes most of the time.
    const text = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u007f', '\ud800', '\udc00', 'é', 'a', '1') }));
    fc.assert(
      fc.property(fc.dictionary(text, text, { maxKeys: 6 }), fc.boolean(), (entries, frozen) => {
        const tags: Record<string, string> = Object.assign(Object.create(null), entries);
        if (frozen) Object.freeze(tags);
        assert.equal(tagsKey(tags), JSON.stringify(Object.entries(tags)));
        assert.equal(tagsKey(tags), JSON.stringify(Object.entries(tags)), 'the same again (kept, for a frozen set)');
      }),
      { numRuns: 2000 },
    );
  });
});
