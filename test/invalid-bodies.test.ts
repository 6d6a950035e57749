// Issue #29 rows 2 and 5: an invalid body costs what its messages cost, a refused caller costs nothing more, and the
// default limits keep one maximum-size body's decode short and its memory bounded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import Koa from 'koa';
import { countPoints, mount } from './helpers.js';
import type { AccessRequest } from '../src/index.js';

/** Runs a request while watching the event loop; its answer, time and the loop's worst delay. */
async function timed<T>(request: () => PromiseLike<T>): Promise<{ answer: T; ms: number; loopMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const started = performance.now();
  const answer = await request();
  const ms = performance.now() - started;
  delay.disable();
  return { answer, ms, loopMs: delay.max / 1e6 };
}

const emptyMetrics = (n: number) => `[${Array(n).fill('{}').join(',')}]`;

describe('invalid bodies cost what their messages cost (#29 row 2)', () => {
  it('1,000,000 empty metrics: 100 messages, the last a lower bound, in well under the 32 s it took when every entry was walked', async () => {
    const { post, store } = mount(Koa);
    const run = await timed(() => post(emptyMetrics(1_000_000)));
    assert.equal(run.answer.status, 400);
    assert.equal(run.answer.body.errors.length, 100);
    assert.equal(run.answer.body.errors[0], 'metric[0].name may not be null.');
    assert.match(run.answer.body.errors[99], /^At least \d+ more errors were not reported\.$/);
    assert.equal(await countPoints(store), 0);
    assert.ok(run.ms < 5000, `answered in ${run.ms.toFixed(0)} ms`);
    console.log(`1,000,000 empty metrics: 400 in ${run.ms.toFixed(0)} ms, event loop delayed at most ${run.loopMs.toFixed(0)} ms`);
  });

  it('a long valid stretch before the first error gives the event loop turns while it is explained', async () => {
    const { post } = mount(Koa);
    const points = Array.from({ length: 400_000 }, (_, i) => [i, i]);
    const body = JSON.stringify([{ name: 'm', tags: { h: 'a' }, datapoints: points }, { name: 'bad', tags: { h: 'a' }, datapoints: [[1, {}]] }]);
    const run = await timed(() => post(body));
    assert.equal(run.answer.status, 400);
    assert.deepEqual(run.answer.body.errors, ['metric[1](name=bad) value is an invalid type']);
    console.log(`400,000 valid points then an error: 400 in ${run.ms.toFixed(0)} ms, event loop delayed at most ${run.loopMs.toFixed(0)} ms`);
  });

  it('a caller the authorize hook refuses gets 403 before an invalid body is explained', async () => {
    const seen: AccessRequest[] = [];
    const { post } = mount(Koa, { authorize: (_ctx, request) => (seen.push(request), false) });
    const run = await timed(() => post(emptyMetrics(100_000)));
    assert.equal(run.answer.status, 403);
    assert.deepEqual(seen, [{ action: 'write', series: [] }]);
    console.log(`100,000 empty metrics from a refused caller: 403 in ${run.ms.toFixed(0)} ms`);
  });

  it('an allowed caller with an invalid body is still asked with no series, then gets the messages', async () => {
    const seen: AccessRequest[] = [];
    const { post } = mount(Koa, { authorize: (_ctx, request) => void seen.push(request) });
    const res = await post([{ name: '', tags: { h: 'a' }, timestamp: 1, value: 1 }]);
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors, ['metric[0].name may not be empty.']);
    assert.deepEqual(seen, [{ action: 'write', series: [] }]);
  });
});

describe('the default body limits bound one decode (#29 row 5)', () => {
  it('a gzip body inflating past 16 MiB answers 413 by default; one just under it is stored', async () => {
    const { post, store } = mount(Koa);
    const metric = (n: number) => ({ name: 'm', tags: { h: String(n) }, datapoints: Array.from({ length: 1000 }, (_, i) => [i, i + 0.5]) });
    const one = JSON.stringify(metric(0)).length;
    const under = JSON.stringify(Array.from({ length: Math.floor((15.5 * 2 ** 20) / (one + 1)) }, (_, n) => metric(n)));
    const over = JSON.stringify(Array.from({ length: Math.ceil((16.5 * 2 ** 20) / one) }, (_, n) => metric(n)));
    const big = await post(gzipSync(over), { 'Content-Encoding': 'gzip', 'Content-Type': 'application/json' });
    assert.equal(big.status, 413);
    assert.deepEqual(big.body.errors, [`Request body exceeds the limit of ${16 * 2 ** 20} bytes`]);
    const gzipped = gzipSync(under);
    const run = await timed(() => post(gzipped, { 'Content-Encoding': 'gzip', 'Content-Type': 'application/json' }));
    assert.equal(run.answer.status, 204, run.answer.text);
    assert.ok((await countPoints(store)) > 500_000);
    console.log(`a ${(under.length / 2 ** 20).toFixed(1)} MiB body: 204 in ${run.ms.toFixed(0)} ms, event loop delayed at most ${run.loopMs.toFixed(0)} ms`);
  });
});
