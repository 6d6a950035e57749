import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerJson } from '../src/http/json-answer.js';
import { QueryBudget } from '../src/query/budget.js';

const budget = (maxResponseBytes = 2 ** 30) => new QueryBudget({ maxPoints: 1e9, maxOutputPoints: 1e9, maxGroups: 1e9, maxResponseBytes, timeoutMs: 60_000 });

describe('query answers written in slices', () => {
  it('are byte-identical to JSON.stringify: several slices, empty results, no group_by, no sample_size, unicode', async () => {
    const values = Array.from({ length: 10_000 }, (_, i): [number, unknown] => [i, i % 3 === 0 ? null : i % 3 === 1 ? i / 7 : { real: i, imaginary: -i }]);
    const answer = {
      queries: [
        { sample_size: 10_002, results: [{ name: 'm', group_by: [{ name: 'type', type: 'number' }], tags: { h: ['a', 'ü "q"'] }, values }, { name: 'm', group_by: [], tags: {}, values: [] }] },
        { sample_size: 0, results: [{ name: 'none', tags: {}, values: [] }] },
        { results: [{ name: 'tags-only', tags: { k: ['v'] }, values: [] }] },
      ],
    };
    const pieces = await answerJson(answer, budget());
    assert.ok(pieces.length > 3);
    assert.equal(Buffer.concat(pieces).toString('utf8'), JSON.stringify(answer));
  });

  it('stop at maxResponseBytes, counted on the bytes written', async () => {
    const answer = { queries: [{ sample_size: 1, results: [{ name: 'm', tags: {}, values: [[1, 'é'.repeat(100)]] as [number, unknown][] }] }] };
    const exact = Buffer.byteLength(JSON.stringify(answer));
    assert.equal(Buffer.concat(await answerJson(answer, budget(exact))).length, exact);
    await assert.rejects(answerJson(answer, budget(exact - 1)), /exceeds \d+ bytes \(maxQueryResponseBytes\)/);
  });
});
