// Longs beyond ±(2^53−1) end to end (#31 row 1): parsed exactly from an ingest body, stored exactly, answered with
// their digits, aggregated as KairosDB does (first, last, filter keep the long; the others take its double).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { PassThrough } from 'node:stream';
import { exportData, importData, kairosdb, MemoryStore, type Store } from '../src/index.js';
import { readAll, series } from '../src/store-api/conformance.js';
import { mayHoldLongIntegers, parseExact } from '../src/json-exact.js';
import { SqliteStore } from '../src/sqlite.js';

const T = Date.UTC(2024, 0, 1);
const BIG = '9007199254740993';
const MAX = '9223372036854775807';
const MIN = '-9223372036854775808';

function serve(store: Store, host?: Koa.Middleware) {
  const app = new Koa();
  if (host) app.use(host);
  app.use(kairosdb({ store }));
  return request(app.callback());
}

const raw = (text: string) => (r: request.Test) => r.set('Content-Type', 'application/json').send(text);
const query = (metric: string, aggregators: unknown[] = []) => JSON.stringify({ start_absolute: T - 1, end_absolute: T + 60_000, metrics: [{ name: metric, aggregators }] });

describe('parseExact: integers of ingest bodies kept exactly', () => {
  it("reads datapoint values beyond ±(2^53−1) as BigInts, everything else as JSON.parse does", async () => {
    const text = `[{"name":"m","tags":{"id":"12345678901234567","n":12345678901234567},"timestamp":${T},"value":${MAX},"datapoints":[[${T},${BIG}],[${T + 1},-${BIG}],[${T + 2},1.2345678901234567],[${T + 3},12345678901234567e2],[${T + 4},"${BIG}"]]}]`;
    assert.ok(await mayHoldLongIntegers(text));
    const [metric] = (await parseExact(text)) as Record<string, unknown>[];
    assert.equal(metric?.value, BigInt(MAX));
    assert.deepEqual(metric?.datapoints, [[T, BigInt(BIG)], [T + 1, -BigInt(BIG)], [T + 2, 1.2345678901234567], [T + 3, 12345678901234567e2], [T + 4, BIG]]);
    // A number elsewhere (a tag's) is the double JSON.parse reads; strings are untouched.
    assert.deepEqual(metric?.tags, { id: '12345678901234567', n: 12345678901234567 });
  });

  it('looks for integer tokens only: 13-digit timestamps and doubles with many digits do not send a body the exact way', async () => {
    assert.equal(await mayHoldLongIntegers(`[[${T},0.12345678901234567],[${T},1.2345678901234567e+30],[${T},123456789012345.5]]`), false);
    assert.equal(await mayHoldLongIntegers(`[[${T},-${BIG}]]`), true);
    // Scanned a MiB at a time: a long integer across a slice's end is found, whatever digit the slice cuts at.
    for (let cut = 0; cut < BIG.length + 2; cut++) assert.equal(await mayHoldLongIntegers(`${' '.repeat(2 ** 20 - cut)},${BIG}]`), true, `cut ${cut}`);
    assert.equal(await mayHoldLongIntegers(`${' '.repeat(2 ** 20 - 5)},${BIG.slice(0, 15)}]`), false);
  });

  it('throws what JSON.parse throws for text that is not JSON', async () => {
    for (const text of [`[{"value":${BIG}]`, `[01234567890123456789]`, `{"a":"${BIG}}`]) {
      let message = '';
      try {
        JSON.parse(text);
      } catch (error) {
        message = (error as Error).message;
      }
      await assert.rejects(parseExact(text), { name: 'SyntaxError', message }, text);
    }
  });

  // A quadratic scan of these would not end within the timeout (linear: well under a second).
  it('gets through hostile text: a 2 MB unterminated string of digits, 100,000 long integers', { timeout: 20_000 }, async () => {
    await assert.rejects(parseExact(`["${'1'.repeat(2_000_000)}`), SyntaxError);
    const parsed = await parseExact(`[{"datapoints":[${Array.from({ length: 100_000 }, (_, i) => `[${i},${BIG}]`).join(',')}]}]`);
    assert.equal(((parsed as { datapoints: unknown[][] }[])[0]?.datapoints[99_999] as unknown[])[1], BigInt(BIG));
  });
});

for (const [label, create] of [['MemoryStore', () => new MemoryStore()], ['SqliteStore', () => new SqliteStore({ path: ':memory:', purgeIntervalMs: 0 })]] as const) {
  describe(`exact longs through the mount (${label})`, () => {
    it('stores and answers longs up to ±(2^63−1) with their exact digits', async () => {
      const agent = serve(create());
      const body = `[{"name":"x.raw","tags":{"h":"a"},"datapoints":[[${T},${MAX}],[${T + 1},${MIN}],[${T + 2},${BIG}],[${T + 3},5],[${T + 4},"-${BIG}"]]}]`;
      assert.equal((await raw(body)(agent.post('/api/v1/datapoints'))).status, 204);
      const res = await raw(query('x.raw'))(agent.post('/api/v1/datapoints/query'));
      assert.equal(res.status, 200, res.text);
      assert.match(res.text, new RegExp(`"values":\\[\\[${T},${MAX}\\],\\[${T + 1},${MIN}\\],\\[${T + 2},${BIG}\\],\\[${T + 3},5\\],\\[${T + 4},-${BIG}\\]\\]`));
      assert.match(res.text, /"type":"number"/);
    });

    it('first and last keep the long, filter passes it, sum and max take its double (as KairosDB)', async () => {
      const agent = serve(create());
      await raw(`[{"name":"x.agg","tags":{"h":"a"},"datapoints":[[${T},${BIG}],[${T + 1},${MAX}]]}]`)(agent.post('/api/v1/datapoints'));
      const valuesOf = async (aggregators: unknown[]) => {
        const res = await raw(query('x.agg', aggregators))(agent.post('/api/v1/datapoints/query'));
        assert.equal(res.status, 200, res.text);
        return /"values":(\[.*?\]\])/.exec(res.text)?.[1];
      };
      const minute = { value: 1, unit: 'minutes' };
      assert.equal(await valuesOf([{ name: 'first', sampling: minute, align_start_time: true }]), `[[${T},${BIG}]]`);
      assert.equal(await valuesOf([{ name: 'last', sampling: minute, align_start_time: true }]), `[[${T},${MAX}]]`);
      assert.equal(await valuesOf([{ name: 'filter', filter_op: 'lt', threshold: 1e16 }]), `[[${T + 1},${MAX}]]`);
      assert.equal(await valuesOf([{ name: 'sum', sampling: minute, align_start_time: true }]), `[[${T},${JSON.stringify(Number(BIG) + Number(MAX))}]]`);
      assert.equal(await valuesOf([{ name: 'max', sampling: minute, align_start_time: true }]), `[[${T},${JSON.stringify(Number(MAX))}]]`);
    });

    it('refuses an integer beyond the 64-bit range with a 400 naming it, and writes nothing; type double rounds, type string keeps the digits', async () => {
      const store = create();
      const agent = serve(store);
      for (const value of ['9223372036854775808', '-9223372036854775809', '"99999999999999999999"']) {
        const res = await raw(`[{"name":"x.bad","tags":{"h":"a"},"datapoints":[[${T},${value}]]}]`)(agent.post('/api/v1/datapoints'));
        assert.equal(res.status, 400, res.text);
        assert.match(res.body.errors[0], /^metric\[0\]\(name=x\.bad\)\.datapoints\[0\]\.value is an integer outside the 64-bit range of a long/);
      }
      assert.deepEqual(await store.metricNames(), []);
      const typed = `[{"name":"x.typed","type":"double","tags":{"h":"d"},"datapoints":[[${T},${BIG}]]},{"name":"x.typed","type":"string","tags":{"h":"s"},"datapoints":[[${T},${BIG}]]}]`;
      assert.equal((await raw(typed)(agent.post('/api/v1/datapoints'))).status, 204);
      const res = await raw(query('x.typed'))(agent.post('/api/v1/datapoints/query'));
      assert.match(res.text, new RegExp(`\\[\\[${T},${JSON.stringify(Number(BIG))}\\]\\]`));
      assert.match(res.text, new RegExp(`\\[\\[${T},"${BIG}"\\]\\]`));
    });

    it('reads a host-parsed body again from its raw text (koa-bodyparser keeps it) to keep the digits', async () => {
      const body = `[{"name":"x.host","tags":{"h":"a"},"datapoints":[[${T},${BIG}]]}]`;
      const agent = serve(create(), async (ctx, next) => {
        if (ctx.path === '/api/v1/datapoints') {
          for await (const _ of ctx.req) void _;
          Object.assign(ctx.request, { body: JSON.parse(body), rawBody: body });
        }
        await next();
      });
      assert.equal((await raw(body)(agent.post('/api/v1/datapoints'))).status, 204);
      const res = await raw(query('x.host'))(agent.post('/api/v1/datapoints/query'));
      assert.match(res.text, new RegExp(`\\[\\[${T},${BIG}\\]\\]`));
    });
  });
}

describe('exact longs through export and import', () => {
  it('writes their digits and reads them back exactly', async () => {
    const from = new MemoryStore();
    const points: [number, bigint | number][] = [[T, BigInt(MAX)], [T + 1, BigInt(MIN)], [T + 2, 7]];
    await from.write([series('x.transfer', { h: 'a' }, points)]);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await exportData(from, out);
    const text = Buffer.concat(chunks).toString('utf8');
    assert.match(text, new RegExp(`\\[${T},${MAX}\\]`));
    const to = new MemoryStore();
    await importData(to, (async function* () { yield text; })());
    assert.deepEqual((await readAll(to, { metric: 'x.transfer' }))[0]?.points, points);
  });
});
