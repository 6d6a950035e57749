// Issue #12's attacks, each against a real listening server: a precise 4xx/503 (or a correct 200 within the caps),
// a small request answered within 1 s while the attack runs, and bounded heap growth.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import { kairosdb, MemoryStore, type KairosdbOptions, type Store } from '../src/index.js';
import { wrapStore } from './helpers.js';
import { SqliteStore } from '../src/sqlite.js';
import { series } from '../src/store-api/conformance.js';

const T = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const clock = () => T + HOUR;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: { errors?: string[]; queries?: { sample_size: number; results: { values: unknown[]; group_by?: unknown[] }[] }[] };
}

/** A listening server with the middleware, the worst latency of a probe request and the event loop's worst delay while `attack` runs. */
async function underAttack(options: Partial<KairosdbOptions>, attack: (url: string) => Promise<Answer>, host?: (app: Koa) => void) {
  const store = options.store ?? new SqliteStore({ path: ':memory:', purgeIntervalMs: 0 });
  const app = new Koa();
  host?.(app);
  app.use(kairosdb({ clock, ...options, store }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let probing = true;
  let worstProbe = 0;
  const probe = (async () => {
    while (probing) {
      const started = performance.now();
      const res = await fetch(`${url}/api/v1/health/check`);
      await res.text();
      worstProbe = Math.max(worstProbe, performance.now() - started);
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    const answer = await attack(url);
    return { answer, worstProbe, loopDelayMs: delay.max / 1e6, heapGrowthMb: (heapPeak - heapBefore) / 2 ** 20, store };
  } finally {
    probing = false;
    await probe;
    delay.disable();
    server.closeAllConnections();
    server.close();
  }
}

async function send(url: string, path: string, body: string | Buffer, headers: Record<string, string> = {}, method = 'POST'): Promise<Answer> {
  const res = await fetch(url + path, { method, body: method === 'GET' ? null : body, headers: { 'Content-Type': 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : {} };
}

const query = (url: string, body: unknown) => send(url, '/api/v1/datapoints/query', typeof body === 'string' ? body : JSON.stringify(body));

/** Asserts the service stayed responsive and bounded while the attack ran. */
function assertHeld(run: { worstProbe: number; loopDelayMs: number; heapGrowthMb: number }, title: string): void {
  assert.ok(run.worstProbe < 1000, `${title}: a small request waited ${run.worstProbe.toFixed(0)} ms`);
  assert.ok(run.heapGrowthMb < 512, `${title}: the heap grew by ${run.heapGrowthMb.toFixed(0)} MB`);
  console.log(`${title}: worst probe ${run.worstProbe.toFixed(0)} ms, event-loop delay ${run.loopDelayMs.toFixed(0)} ms, heap +${run.heapGrowthMb.toFixed(0)} MB`);
}

async function seeded(points: [number, number][], tags = { h: 'a' }, store: Store = new SqliteStore({ path: ':memory:', purgeIntervalMs: 0 })): Promise<Store> {
  for (let i = 0; i < points.length; i += 10_000) await store.write([series('m', tags, points.slice(i, i + 10_000))]);
  return store;
}

const window = { start_absolute: T, end_absolute: T + HOUR };

describe('abuse: queries with a bounded cost', () => {
  it('gaps at 1 ms over a day is refused before reading anything (was: heap out of memory)', async () => {
    const store = await seeded([[T + 1000, 1]]);
    const run = await underAttack({ store }, (url) =>
      query(url, { start_relative: { value: 1, unit: 'days' }, metrics: [{ name: 'm', aggregators: [{ name: 'gaps', sampling: { value: 1, unit: 'milliseconds' } }] }] }),
    );
    assert.equal(run.answer.status, 400);
    assert.match(run.answer.body.errors?.[0] ?? '', /^query\.metric\[0\]\.aggregators\[0\] gaps would answer about 864\d{5} values; at most 1000000 are allowed \(maxQueryOutputPoints\)/);
    assertHeld(run, 'gaps over a day');
  });

  it('gaps within the cap answers every range; gaps multiplied by time groups stops at the running cap', async () => {
    const store = await seeded([[T + 1000, 1], [T + 5000, 2]]);
    const options = { store, maxQueryOutputPoints: 1000 };
    const gaps = { name: 'gaps', sampling: { value: 1, unit: 'seconds' } };
    const ok = await underAttack(options, (url) => query(url, { start_absolute: T, end_absolute: T + 600_000, metrics: [{ name: 'm', aggregators: [gaps] }] }));
    assert.equal(ok.answer.status, 200, ok.answer.text.slice(0, 200));
    assert.equal(ok.answer.body.queries?.[0]?.results[0]?.values.length, 601);
    const upFront = await underAttack(options, (url) => query(url, { start_absolute: T, end_absolute: T + 1_200_000, metrics: [{ name: 'm', aggregators: [gaps] }] }));
    assert.equal(upFront.answer.status, 400);
    assert.match(upFront.answer.body.errors?.[0] ?? '', /gaps would answer about 1201 values; at most 1000/);
    const grouped = await underAttack(options, (url) =>
      query(url, { start_absolute: T, end_absolute: T + 600_000, metrics: [{ name: 'm', group_by: [{ name: 'time', range_size: { value: 4, unit: 'seconds' }, group_count: 2 }], aggregators: [gaps] }] }),
    );
    assert.equal(grouped.answer.status, 400);
    assert.deepEqual(grouped.answer.body.errors, ['The query answers more than 1000 values (maxQueryOutputPoints); narrow its time range, use a larger sampling or set a limit']);
  });

  it('a raw read past maxQueryOutputPoints answers 400; at the cap it answers every value', async () => {
    const points: [number, number][] = Array.from({ length: 20_000 }, (_, i) => [T + i, i]);
    const store = await seeded(points);
    const at = await underAttack({ store, maxQueryOutputPoints: 20_000 }, (url) => query(url, { ...window, metrics: [{ name: 'm' }] }));
    assert.equal(at.answer.status, 200);
    assert.equal(at.answer.body.queries?.[0]?.results[0]?.values.length, 20_000);
    const past = await underAttack({ store, maxQueryOutputPoints: 19_999 }, (url) => query(url, { ...window, metrics: [{ name: 'm' }] }));
    assert.equal(past.answer.status, 400);
    assert.match(past.answer.body.errors?.[0] ?? '', /more than 19999 values \(maxQueryOutputPoints\)/);
  });

  it('many metrics: over maxQueryMetrics is refused up front; at it, the running output cap stops it and the service stays responsive', async () => {
    const store = new SqliteStore({ path: ':memory:', purgeIntervalMs: 0 });
    await store.write(Array.from({ length: 300 }, (_, i) => series('m', { h: String(i) }, [[T + 1000, i]])));
    const metrics = (n: number) => Array.from({ length: n }, () => ({ name: 'm' }));
    const over = await underAttack({ store, maxQueryMetrics: 50 }, (url) => query(url, { ...window, metrics: metrics(51) }));
    assert.equal(over.answer.status, 400);
    assert.deepEqual(over.answer.body.errors, ['query.metric[] has 51 metrics; at most 50 are allowed (maxQueryMetrics)']);
    const at = await underAttack({ store, maxQueryMetrics: 50, maxQueryOutputPoints: 5000 }, (url) => query(url, { ...window, metrics: metrics(50) }));
    assert.equal(at.answer.status, 400);
    assert.match(at.answer.body.errors?.[0] ?? '', /more than 5000 values/);
    assertHeld(at, '50 metrics × 300 series');
  });

  it('a gzipped query larger than maxQueryBodyBytes once inflated answers 413 (was: 2.5 M metrics parsed)', async () => {
    const body = gzipSync(JSON.stringify({ ...window, metrics: Array.from({ length: 200_000 }, () => ({ name: 'm' })) }));
    const run = await underAttack({}, (url) => send(url, '/api/v1/datapoints/query', body, { 'Content-Encoding': 'gzip' }));
    assert.equal(run.answer.status, 413);
    assert.deepEqual(run.answer.body.errors, ['Request body exceeds the limit of 1048576 bytes']);
  });

  it('group_by with more tag names than maxQueryTags, or a tag filter with more values, answers 400', async () => {
    const names = ['h', ...Array.from({ length: 20_000 }, (_, i) => `t${i}`)];
    const run = await underAttack({}, (url) => query(url, { ...window, metrics: [{ name: 'm', group_by: [{ name: 'tag', tags: names }] }] }));
    assert.equal(run.answer.status, 400);
    assert.deepEqual(run.answer.body.errors, ['query.metric[0].group_by[0].tags has 20001 tag names; at most 1000 are allowed (maxQueryTags)']);
    const filter = await underAttack({}, (url) => query(url, { ...window, metrics: [{ name: 'm', tags: { h: names } }] }));
    assert.equal(filter.answer.status, 400);
    assert.deepEqual(filter.answer.body.errors, ['query.metric[0].tags has 20001 tag values; at most 1000 are allowed (maxQueryTags)']);
  });

  it('a value grouper with range_size 1 answers 400 past maxQueryGroups, and 200 with every group within it (was: 500, stack overflow)', async () => {
    const points: [number, number][] = Array.from({ length: 130_000 }, (_, i) => [T + i, i]);
    const store = await seeded(points, { h: 'a' }, new MemoryStore());
    const body = { ...window, metrics: [{ name: 'm', group_by: [{ name: 'value', range_size: 1 }] }] };
    const refused = await underAttack({ store }, (url) => query(url, body));
    assert.equal(refused.answer.status, 400);
    assert.match(refused.answer.body.errors?.[0] ?? '', /more than 10000 groups \(maxQueryGroups\)/);
    assertHeld(refused, 'value grouper, 130,000 values');
    const all = await underAttack({ store, maxQueryGroups: 200_000 }, (url) => query(url, body));
    assert.equal(all.answer.status, 200, all.answer.text.slice(0, 200));
    assert.equal(all.answer.body.queries?.[0]?.results.length, 130_000);
    assertHeld(all, 'value grouper, 130,000 groups answered');
  });

  it('text values past maxQueryResponseBytes answer 400', async () => {
    const store = new MemoryStore();
    await store.write([{ metric: 'm', tags: { h: 'a' }, type: 'string', storage: 'string', ttl: 0, timestamps: [T + 1, T + 2, T + 3], values: ['x'.repeat(4000), 'y'.repeat(4000), 'z'.repeat(4000)] }]);
    const run = await underAttack({ store, maxQueryResponseBytes: 10_000 }, (url) => query(url, { ...window, metrics: [{ name: 'm' }] }));
    assert.equal(run.answer.status, 400);
    assert.deepEqual(run.answer.body.errors, ["The query's answer exceeds 10000 bytes (maxQueryResponseBytes); narrow its time range or tags, or set a limit"]);
  });

  it('a query past queryTimeoutMs answers 503 with Retry-After and frees its slot', async () => {
    const inner = await seeded(Array.from({ length: 50 }, (_, i) => [T + i, i]), { h: 'a' }, new MemoryStore());
    const slow: Store = wrapStore(inner, {
      read: async function* (q: Parameters<Store['read']>[0]) {
        for await (const s of inner.read(q)) {
          yield {
            ...s,
            points: async function* () {
              for await (const page of s.points()) {
                for (let i = 0; i < page.timestamps.length; i++) {
                  await new Promise((r) => setTimeout(r, 20));
                  yield { timestamps: [page.timestamps[i] as number], values: [page.values[i] as number] };
                }
              }
            },
          };
        }
      },
    });
    const run = await underAttack({ store: slow, queryTimeoutMs: 300, maxInFlightQueries: 1 }, async (url) => {
      const first = await query(url, { ...window, metrics: [{ name: 'm' }] });
      const second = await query(url, { ...window, metrics: [{ name: 'm' }], end_absolute: T + 5 });
      return { ...first, text: JSON.stringify([first.status, second.status]) };
    });
    assert.equal(run.answer.status, 503);
    assert.equal(run.answer.headers.get('retry-after'), '1');
    assert.deepEqual(run.answer.body.errors, ['The query did not finish within 300 ms (queryTimeoutMs); narrow it or retry later']);
    assert.equal(run.answer.text, '[503,200]');
  });

  it('percentile and sma over 400,000 points in one range keep the event loop turning', async () => {
    const store = await seeded(Array.from({ length: 400_000 }, (_, i) => [T + i, i % 997]), { h: 'a' }, new SqliteStore({ path: ':memory:', purgeIntervalMs: 0 }));
    const run = await underAttack({ store }, (url) =>
      query(url, { ...window, metrics: [{ name: 'm', aggregators: [{ name: 'percentile', percentile: 0.5, sampling: { value: 1, unit: 'hours' } }, { name: 'sma', size: 1_000_000 }] }] }),
    );
    assert.equal(run.answer.status, 200);
    assert.equal(run.answer.body.queries?.[0]?.sample_size, 400_000);
    assertHeld(run, 'percentile + sma over 400,000 points');
  });
});

describe('abuse: parsing in linear time and bounded depth', () => {
  const digits = `${'1'.repeat(250_000)}x`;
  const cases: [string, string, string, number, RegExp | undefined][] = [
    ['a 250,000-digit string value', '/api/v1/datapoints', `[{"name":"m","tags":{"h":"a"},"timestamp":1,"value":"${digits}"}]`, 204, undefined],
    ['a 250,000-digit string timestamp', '/api/v1/datapoints', `[{"name":"m","tags":{"h":"a"},"timestamp":"${digits}","value":1}]`, 400, /timestamp must be an integer/],
    ['a 250,000-digit query field', '/api/v1/datapoints/query', `{"start_absolute":"${digits}","metrics":[{"name":"m"}]}`, 400, /^query\.start_absolute must be a number of milliseconds$/],
    ['arrays 100,000 deep in query tags', '/api/v1/datapoints/query', `{"start_absolute":1,"metrics":[{"name":"m","tags":{"h":${'['.repeat(100_000)}"a"${']'.repeat(100_000)}}}]}`, 400, /deeper than 64 levels \(maxJsonDepth\)/],
    ['arrays 100,000 deep in group_by tags', '/api/v1/datapoints/query', `{"start_absolute":1,"metrics":[{"name":"m","group_by":[{"name":"tag","tags":${'['.repeat(100_000)}"a"${']'.repeat(100_000)}}]}]}`, 400, /deeper than 64 levels/],
    ['arrays 100,000 deep in a complex value', '/api/v1/datapoints', `[{"name":"m","type":"complex-number","tags":{"h":"a"},"timestamp":1,"value":{"real":${'['.repeat(100_000)}1${']'.repeat(100_000)},"imaginary":1}}]`, 400, /deeper than 64 levels/],
    ['arrays 100,000 deep in a delete body', '/api/v1/datapoints/delete', `{"start_absolute":1,"metrics":[{"name":"m","tags":{"h":${'['.repeat(100_000)}"a"${']'.repeat(100_000)}}}]}`, 400, /deeper than 64 levels/],
    ['start_relative of 1,000,000 years', '/api/v1/datapoints/query', '{"start_relative":{"value":1000000,"unit":"years"},"metrics":[{"name":"m"}]}', 400, /^start_relative\.value must be at most the supported time range/],
    ['start_relative past the date range by days', '/api/v1/datapoints/query', '{"start_relative":{"value":200000000,"unit":"days"},"metrics":[{"name":"m"}]}', 400, /^query\.start_relative reaches outside the supported time range/],
    ['start_absolute of 1e300', '/api/v1/datapoints/query', '{"start_absolute":1e300,"metrics":[{"name":"m"}]}', 400, /^query\.start_absolute must be between -8640000000000000 and 8640000000000000 ms$/],
    ['a sampling of 10^20 years', '/api/v1/datapoints/query', '{"start_absolute":1,"metrics":[{"name":"m","aggregators":[{"name":"sum","sampling":{"value":1e20,"unit":"years"}}]}]}', 400, /aggregators\[0\]\.sampling\.value must be at most the supported time range/],
  ];
  for (const [title, path, body, status, message] of cases) {
    it(`${title} → ${status}`, async () => {
      const run = await underAttack({}, (url) => send(url, path, body));
      assert.equal(run.answer.status, status, run.answer.text.slice(0, 300));
      if (message) assert.match(run.answer.body.errors?.[0] ?? '', message);
      assertHeld(run, title);
    });
  }

  it('a deep query in GET ?query= and a deep body parsed by the host (koa-body) answer 400', async () => {
    const deep = `{"start_absolute":1,"metrics":[{"name":"m","tags":{"h":${'['.repeat(1000)}"a"${']'.repeat(1000)}}}]}`;
    const get = await underAttack({}, (url) => send(url, `/api/v1/datapoints/query?query=${encodeURIComponent(deep)}`, '', {}, 'GET'));
    assert.equal(get.answer.status, 400);
    assert.match(get.answer.body.errors?.[0] ?? '', /deeper than 64 levels/);
    const hosted = await underAttack({}, (url) => send(url, '/api/v1/datapoints/query', deep), (app) => app.use(koaBody({ jsonLimit: '10mb' })));
    assert.equal(hosted.answer.status, 400);
    assert.match(hosted.answer.body.errors?.[0] ?? '', /deeper than 64 levels/);
  });

  it('gzip with an empty body answers 400 in plain words (was: Node internals)', async () => {
    const run = await underAttack({}, (url) => send(url, '/api/v1/datapoints', '', { 'Content-Encoding': 'gzip' }));
    assert.equal(run.answer.status, 400);
    assert.deepEqual(run.answer.body.errors, ['Invalid gzip body: the body is empty']);
  });
});

/** Opens `n` uploads that send one byte every `everyMs`; returns their statuses as they end and a stop function. */
function slowUploads(url: string, n: number, everyMs: number) {
  const { port } = new URL(url);
  const statuses: string[] = [];
  const sockets = Array.from({ length: n }, () => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => statuses.push(d.toString('latin1').split(' ')[1] ?? ''));
    socket.write('POST /api/v1/datapoints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[');
    return socket;
  });
  const drip = setInterval(() => sockets.forEach((s) => s.writable && s.write(' ')), everyMs);
  return { statuses, stop: () => (clearInterval(drip), sockets.forEach((s) => s.destroy())) };
}

describe('abuse: fair admission', () => {
  it('64 slow uploads hold no slot: a fast write and the health check answer at once; the slow ones get 408 after the grace period', async () => {
    const run = await underAttack({ bodyRateGraceMs: 500 }, async (url) => {
      const slow = slowUploads(url, 64, 2000);
      await new Promise((r) => setTimeout(r, 300));
      const fast = await send(url, '/api/v1/datapoints', JSON.stringify([{ name: 'm', tags: { h: 'a' }, timestamp: 1, value: 1 }]));
      const health = await fetch(`${url}/api/v1/health/check`);
      const deadline = Date.now() + 5000;
      while (slow.statuses.length < 64 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      slow.stop();
      return { ...fast, text: JSON.stringify({ fast: fast.status, health: health.status, slow: [...new Set(slow.statuses)], n: slow.statuses.length }) };
    });
    assert.deepEqual(JSON.parse(run.answer.text), { fast: 204, health: 204, slow: ['408'], n: 64 });
    assertHeld(run, '64 slow uploads');
  });

  it('queries and writes have slots of their own: a full query pool does not turn a write away', async () => {
    const inner = await seeded([[T + 1, 1]], { h: 'a' }, new MemoryStore());
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const store: Store = wrapStore(inner, {
      write: (s: Parameters<Store['write']>[0]) => inner.write(s),
      read: async function* (q: Parameters<Store['read']>[0]) {
        await gate;
        yield* inner.read(q);
      },
    });
    const run = await underAttack({ store, maxInFlightQueries: 1 }, async (url) => {
      const held = query(url, { ...window, metrics: [{ name: 'm' }] });
      await new Promise((r) => setTimeout(r, 100));
      const second = await query(url, { ...window, metrics: [{ name: 'm' }] });
      const write = await send(url, '/api/v1/datapoints', JSON.stringify([{ name: 'm', tags: { h: 'a' }, timestamp: 2, value: 2 }]));
      release();
      const first = await held;
      return { ...first, text: JSON.stringify([first.status, second.status, second.body.errors, write.status]) };
    });
    assert.deepEqual(JSON.parse(run.answer.text), [200, 503, ['Too many requests in flight; retry later'], 204]);
  });

  it('maxRequestsPerClient caps one address, uploads included; health checks are not counted', async () => {
    const run = await underAttack({ maxRequestsPerClient: 2, bodyRateGraceMs: 60_000 }, async (url) => {
      const slow = slowUploads(url, 2, 1000);
      await new Promise((r) => setTimeout(r, 200));
      const third = await send(url, '/api/v1/datapoints', '[]');
      const health = await fetch(`${url}/api/v1/health/check`);
      slow.stop();
      await new Promise((r) => setTimeout(r, 100));
      const after = await send(url, '/api/v1/datapoints', '[]');
      return { ...third, text: JSON.stringify([third.status, third.body.errors, health.status, after.status]) };
    });
    assert.deepEqual(JSON.parse(run.answer.text), [503, ['Too many requests in flight from this client (at most 2); retry later'], 204, 204]);
  });
});
