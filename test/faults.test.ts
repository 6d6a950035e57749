import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore, StoreUnavailableError, type SeriesWrite, type Store } from '../src/index.js';
import { wrapStore } from './helpers.js';
import { readAll } from '../src/store-api/conformance.js';

type Mode = 'ok' | 'slow' | 'fail' | 'unavailable' | 'hang' | 'fail-after-write';

/** A store wrapper that fails, hangs or is slow by a seeded draw, writing through to a MemoryStore. */
function faulty(inner: MemoryStore, seed: number) {
  let state = seed;
  const draw = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const modes = new Map<string, Mode>();
  const store: Store = wrapStore(inner, {
    write: async (series: readonly SeriesWrite[]) => {
      const r = draw();
      const mode: Mode = r < 0.4 ? 'ok' : r < 0.6 ? 'slow' : r < 0.7 ? 'fail' : r < 0.8 ? 'unavailable' : r < 0.9 ? 'hang' : 'fail-after-write';
      modes.set(series[0]?.metric as string, mode);
      if (mode === 'hang') return new Promise<void>(() => {});
      if (mode === 'fail') throw new Error('disk on fire');
      if (mode === 'unavailable') throw new StoreUnavailableError('replica down');
      if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, draw() * 80));
      await inner.write(series);
      if (mode === 'fail-after-write') throw new Error('ack lost');
    },
  });
  return { store, modes };
}

describe('fault injection', () => {
  it('answers 204 only for writes that landed, and every 204 has all its points stored', async () => {
    const inner = new MemoryStore();
    const { store, modes } = faulty(inner, 42);
    const app = new Koa();
    app.use(kairosdb({ store, writeTimeoutMs: 150, maxInFlightRequests: 1000 }));
    const statuses = new Map<string, number>();
    const requests = Array.from({ length: 200 }, (_, i) => `fault.${i}`);
    for (let i = 0; i < requests.length; i += 25) {
      await Promise.all(
        requests.slice(i, i + 25).map(async (metric) => {
          const datapoints = Array.from({ length: 20 }, (_, k) => [k, k]);
          const res = await request(app.callback()).post('/api/v1/datapoints').send([{ name: metric, tags: { h: 'a' }, datapoints }]);
          statuses.set(metric, res.status);
        }),
      );
    }
    const counts: Record<string, number> = {};
    for (const metric of requests) {
      const status = statuses.get(metric) as number;
      const mode = modes.get(metric) as Mode;
      counts[`${mode}→${status}`] = (counts[`${mode}→${status}`] ?? 0) + 1;
      const stored = (await readAll(inner, { metric }))[0]?.points.length ?? 0;
      if (status === 204) assert.equal(stored, 20, `${metric} answered 204 but has ${stored} points`);
      if (mode !== 'ok' && mode !== 'slow') assert.notEqual(status, 204, `${metric} (${mode}) answered 204`);
      if (mode === 'ok' || mode === 'slow') assert.equal(status, 204, `${metric} (${mode}) answered ${status}`);
    }
    assert.deepEqual(Object.keys(counts).sort(), ['fail-after-write→500', 'fail→500', 'hang→503', 'ok→204', 'slow→204', 'unavailable→503']);
  });

  it('with a slow store and many concurrent clients: the excess gets 503 and memory stays bounded', async () => {
    const inner = new MemoryStore();
    const slow: Store = wrapStore(inner, {
      write: async (s: readonly SeriesWrite[]) => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await inner.write(s);
      },
    });
    const app = new Koa();
    app.use(kairosdb({ store: slow, maxInFlightRequests: 8 }));
    const server = app.listen(0);
    const datapoints = Array.from({ length: 5000 }, (_, k) => [k, k]);
    const body = JSON.stringify([{ name: 'slow', tags: { h: 'a' }, datapoints }]);
    global.gc?.();
    const before = process.memoryUsage().rss;
    const results = await Promise.all(
      Array.from({ length: 100 }, () => request(server).post('/api/v1/datapoints').set('Content-Type', 'application/json').send(body).then((r) => r.status)),
    );
    const grown = process.memoryUsage().rss - before;
    server.close();
    server.closeAllConnections();
    const ok = results.filter((s) => s === 204).length;
    const refused = results.filter((s) => s === 503).length;
    assert.equal(ok + refused, 100);
    assert.ok(ok >= 8 && refused > 0, `${ok} accepted, ${refused} refused`);
    assert.ok(grown < 300 * 1024 * 1024, `RSS grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
    console.log(`slow store, 100 concurrent clients: ${ok} × 204, ${refused} × 503, RSS +${(grown / 2 ** 20).toFixed(0)} MiB`);
  });
});
