import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerJson, listJson } from '../src/http/json-answer.js';
import { eventsOf } from '../src/query/execute.js';
import { QueryBudget } from '../src/query/budget.js';

const pieces = async (answer: Parameters<typeof eventsOf>[0], b: ReturnType<typeof budget>) => {
  const out: Buffer[] = [];
  for await (const piece of answerJson(eventsOf(answer), b)) out.push(piece);
  return out;
};
/** JSON.stringify with each entry's sample_size after its results, as the streamed answer writes it. */
const stringified = (answer: { queries: { sample_size?: number; results: unknown[] }[] }) =>
  JSON.stringify({ queries: answer.queries.map(({ sample_size, ...rest }) => (sample_size === undefined ? rest : { ...rest, sample_size })) });

const budget = (maxResponseBytes = 2 ** 30) => new QueryBudget({ maxPoints: 1e9, maxOutputPoints: 1e9, maxGroups: 1e9, maxResponseBytes, timeoutMs: 60_000 });

describe('query answers written in slices', () => {
  it('are byte-identical to JSON.stringify (sample_size after results): several slices, empty results, no group_by, no sample_size, unicode', async () => {
    const values = Array.from({ length: 10_000 }, (_, i): [number, unknown] => [i, i % 3 === 0 ? null : i % 3 === 1 ? i / 7 : { real: i, imaginary: -i }]);
    const answer = {
      queries: [
        { sample_size: 10_002, results: [{ name: 'm', group_by: [{ name: 'type', type: 'number' }], tags: { h: ['a', 'ü "q"'] }, values }, { name: 'm', group_by: [], tags: {}, values: [] }] },
        { sample_size: 0, results: [{ name: 'none', tags: {}, values: [] }] },
        { results: [{ name: 'tags-only', tags: { k: ['v'] }, values: [] }] },
      ],
    };
    const written = await pieces(answer, budget());
    assert.ok(written.length > 1);
    assert.equal(Buffer.concat(written).toString('utf8'), stringified(answer));
    assert.deepEqual(JSON.parse(Buffer.concat(written).toString('utf8')), answer);
  });

  it('stop at maxResponseBytes, counted on the bytes written', async () => {
    const answer = { queries: [{ sample_size: 1, results: [{ name: 'm', tags: {}, values: [[1, 'é'.repeat(100)]] as [number, unknown][] }] }] };
    const exact = Buffer.byteLength(JSON.stringify(answer));
    assert.equal(Buffer.concat(await pieces(answer, budget(exact))).length, exact);
    await assert.rejects(pieces(answer, budget(exact - 1)), /exceeds \d+ bytes \(maxQueryResponseBytes\)/);
  });
});

describe('name lists written in pieces', () => {
  it('are byte-identical to JSON.stringify({ results }) across pieces and groups of names (quotes, controls, unicode, empty)', async () => {
    for (const n of [0, 1, 2047, 2048, 2049, 30_001]) {
      const names = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? `m"${i}"\\\n` : i % 5 === 1 ? `ü.${i}.𝄞` : `metric.${i}`));
      const out: Buffer[] = [];
      for await (const piece of listJson(names, budget())) out.push(piece);
      assert.equal(Buffer.concat(out).toString('utf8'), JSON.stringify({ results: names }), `${n} names`);
      if (n === 30_001) assert.ok(out.length > 1, 'several pieces');
    }
  });
});
