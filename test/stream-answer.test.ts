import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kairosdb, MemoryStore, type Store } from '../src/index.js';
import { series } from '../src/store-api/conformance.js';
import type { SeriesQuery, SeriesRead } from '../src/store-api/contract.js';
import { KOAS, wrapStore, type KoaClass } from './helpers.js';

const T = Date.UTC(2026, 0, 1);
const POINTS = 200_000;

async function filled(): Promise<MemoryStore> {
  const store = new MemoryStore();
  for (let r = 0; r < POINTS / 10_000; r++) {
    await store.write([series('big', { h: 'a' }, Array.from({ length: 10_000 }, (_, i): [number, number] => [T + (r * 10_000 + i) * 1000, i % 97]))]);
  }
  return store;
}

/** A store whose series fail after `pages` pages of points. */
function failingAfter(inner: Store, pages: number): Store {
  return wrapStore(inner, {
    async *read(query: SeriesQuery): AsyncIterable<SeriesRead> {
      for await (const s of inner.read(query)) {
        yield {
          ...s,
          async *points() {
            let n = 0;
            for await (const page of s.points()) {
              if (n++ === pages) throw new Error('disk on fire');
              yield page;
            }
          },
        };
      }
    },
  });
}

async function serve(Koa: KoaClass, store: Store, options = {}) {
  const app = new Koa();
  app.silent = true;
  const errors: Error[] = [];
  app.on('error', (e: Error) => errors.push(e));
  app.use(kairosdb({ store, ...options }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const query = (body: object) =>
    fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/datapoints/query`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { query, errors, close: () => new Promise((resolve) => server.close(resolve)) };
}

const raw = { start_absolute: T, end_absolute: T + POINTS * 1000, metrics: [{ name: 'big' }] };

for (const [label, Koa] of KOAS) {
  describe(`streamed query answers (${label})`, () => {
    it('streams a long answer (chunked, no length) that parses to every point, sample_size after the results', async () => {
      const app = await serve(Koa, await filled());
      const res = await app.query(raw);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), null);
      assert.equal(res.headers.get('transfer-encoding'), 'chunked');
      const text = await res.text();
      const answer = JSON.parse(text);
      assert.equal(answer.queries[0].sample_size, POINTS);
      const values = answer.queries[0].results[0].values;
      assert.equal(values.length, POINTS);
      assert.deepEqual(values[12_345], [T + 12_345 * 1000, 12_345 % 10_000 % 97]);
      assert.ok(text.endsWith(`],"sample_size":${POINTS}}]}`));
      await app.close();
    });

    it('sends a short answer whole, with its length', async () => {
      const app = await serve(Koa, await filled());
      const res = await app.query({ ...raw, metrics: [{ name: 'big', aggregators: [{ name: 'sum', sampling: { value: 1, unit: 'days' } }] }] });
      assert.equal(res.status, 200);
      assert.ok(Number(res.headers.get('content-length')) > 0);
      assert.equal(((await res.json()) as { queries: { results: { values: unknown[] }[] }[] }).queries[0]?.results[0]?.values.length, 3);
      await app.close();
    });

    it('cuts the connection when the store fails after the answer started: the client gets an error, not short JSON', async () => {
      const app = await serve(Koa, failingAfter(await filled(), 10));
      const res = await app.query(raw);
      assert.equal(res.status, 200);
      await assert.rejects(res.text(), /terminated/);
      assert.deepEqual([...new Set(app.errors.map((e) => e.message))], ['disk on fire']);
      await app.close();
    });

    it('cuts the connection when a cap is passed after the answer started, and answers 400 when it is passed before', async () => {
      const app = await serve(Koa, await filled(), { maxQueryOutputPoints: 150_000 });
      const res = await app.query(raw);
      assert.equal(res.status, 200);
      await assert.rejects(res.text(), /terminated/);
      const early = await app.query({ ...raw, metrics: [{ name: 'big', limit: 0 }], end_absolute: T + 20_000 * 1000 });
      assert.equal(early.status, 200);
      const small = await serve(Koa, await filled(), { maxQueryOutputPoints: 1000 });
      const refused = await small.query(raw);
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as { errors: string[] }).errors[0] ?? "", /more than 1000 values/);
      assert.deepEqual([...new Set(app.errors.map((e) => e.message))], ['The query answers more than 150000 values (maxQueryOutputPoints); narrow its time range, use a larger sampling or set a limit']);
      await app.close();
      await small.close();
    });
  });
}

describe('streamed query answers: memory', () => {
  it('a raw read of 1,000,000 points from SQLite holds pages, not the answer', () => {
    const child = fileURLToPath(new URL('./stream-answer-child.ts', import.meta.url));
    const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', child], { encoding: 'utf8' }));
    assert.equal(out.values, 1_000_000);
    // Held as [ts, value] pairs before writing (the code before streaming), this answer took 111 MB of heap; streamed,
    // 18–26 MB (garbage between collections included).
    assert.ok(out.growth < 48 * 1024 * 1024, `heap grew by ${(out.growth / 2 ** 20).toFixed(1)} MiB`);
    console.log(`heap growth while streaming 1,000,000 raw points: ${(out.growth / 2 ** 20).toFixed(1)} MiB of a ${(out.bytes / 2 ** 20).toFixed(1)} MiB answer`);
  });
});
