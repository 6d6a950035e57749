import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WriteLock } from '../src/stores/sqlite/write-lock.js';

/**
 * A thread that holds the lock as the compaction worker does (holder cell 1) for `holdMs`, then lets go — or, with
 * `die`, ends holding it.
 */
function holder(memory: SharedArrayBuffer, holdMs: number, die = false): Worker {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const cells = new Int32Array(workerData.memory);
    if (Atomics.compareExchange(cells, 0, 0, 1) !== 0) throw new Error('lock not free');
    parentPort.postMessage('held');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
    if (!workerData.die) {
      Atomics.store(cells, 0, 0);
      Atomics.notify(cells, 0);
      parentPort.postMessage('released');
    }`;
  return new Worker(code, { eval: true, workerData: { memory, holdMs, die } });
}

/**
 * A thread running `lock.run(work)` on the worker's side of the real WriteLock: posts 'ready' as it calls it, then how
 * long after that the work ran.
 */
function workerSide(memory: SharedArrayBuffer, handoffMs?: number): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const module = new URL('../src/stores/sqlite/write-lock.ts', import.meta.url).href;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(${JSON.stringify(tsx)}).then((api) => api.register()).then(() => import(${JSON.stringify(module)})).then(({ WriteLock }) => {
      const lock = new WriteLock(workerData.memory, 'worker', workerData.handoffMs);
      parentPort.postMessage('ready');
      const started = performance.now();
      lock.run(() => parentPort.postMessage(performance.now() - started));
    });`;
  return new Worker(code, { eval: true, workerData: { memory, handoffMs } });
}

describe('SQLite write lock (the store thread and its compaction worker)', () => {
  it('lets a write wait for the worker without blocking the event loop, and runs it once the worker lets go', async () => {
    const lock = new WriteLock(WriteLock.memory(), 'store');
    const worker = holder(lock.memory, 300);
    await once(worker, 'message');
    let released = false;
    worker.on('message', (m) => (released ||= m === 'released'));
    let ticks = 0;
    const ticking = setInterval(() => ticks++, 10);
    const ranAfterRelease = await lock.runAsync(() => released || Atomics.load(new Int32Array(lock.memory), 0) === 2);
    clearInterval(ticking);
    assert.ok(ranAfterRelease, 'the write ran holding the lock, after the worker let go');
    assert.ok(ticks >= 5, `the event loop ran ${ticks} timer ticks while the write waited`);
    // Let go again: the worker side can take it.
    assert.equal(Atomics.load(new Int32Array(lock.memory), 0), 0);
    await once(worker, 'exit');
  });

  it('keeps the process alive while a write waits (a second: many waits) for a lock held by a thread that does not', () => {
    // In a process of its own: nothing else there keeps the event loop going (a test runner's timers would).
    const child = fileURLToPath(new URL('write-lock-child.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', child, '1000'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.stdout.trim(), 'written', `exit ${run.status}: the write never ran`);
    assert.equal(run.status, 0);
  });

  it('takes a free lock at once, runs the write and lets go', { timeout: 5000 }, async () => {
    const lock = new WriteLock(WriteLock.memory(), 'store');
    assert.equal(await lock.runAsync(() => Atomics.load(new Int32Array(lock.memory), 0)), 2, 'held by the store while the write ran');
    assert.equal(Atomics.load(new Int32Array(lock.memory), 0), 0);
    assert.equal(await lock.runAsync(() => 'again'), 'again');
  });

  it('frees a lock its holder died with, so the store is not stuck', async () => {
    const lock = new WriteLock(WriteLock.memory(), 'store');
    const worker = holder(lock.memory, 0, true);
    worker.on('exit', () => lock.releaseDead());
    await once(worker, 'message');
    assert.equal(await lock.runAsync(() => 'written'), 'written');
  });

  it('runs nested work of the holding side without waiting for itself', () => {
    const lock = new WriteLock(WriteLock.memory(), 'store');
    assert.equal(lock.run(() => lock.run(() => 'inner')), 'inner');
    assert.equal(Atomics.load(new Int32Array(lock.memory), 0), 0, 'let go after the outer work');
  });
  it('leaves a free lock to a waiting write until the write has had it (a busy event loop takes it late)', async () => {
    const memory = WriteLock.memory();
    const cells = new Int32Array(memory);
    Atomics.store(cells, 1, 1); // a write waits (its event loop busy: it has not taken the free lock yet)
    // Left free up to 5 s here, so that a slow machine's timers do not decide the test (the default is 100 ms).
    const worker = workerSide(memory, 5000);
    await once(worker, 'message');
    const ran = once(worker, 'message');
    await new Promise((resolve) => setTimeout(resolve, 60));
    // The write takes the lock at last, holds it 20 ms and lets go.
    assert.equal(Atomics.compareExchange(cells, 0, 0, 2), 0, 'the worker left the lock free while the write waited');
    Atomics.store(cells, 1, 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    Atomics.store(cells, 0, 0);
    Atomics.notify(cells, 0);
    const [after] = (await ran) as [number];
    assert.ok(after >= 70, `the worker ran ${after.toFixed(0)} ms after it asked, once the write was done`);
    await once(worker, 'exit');
  });

  it('takes the lock after a while when a waiting write never comes for it (compaction still moves)', { timeout: 10_000 }, async () => {
    const memory = WriteLock.memory();
    Atomics.store(new Int32Array(memory), 1, 1); // counted as waiting, never taking it
    const worker = workerSide(memory);
    await once(worker, 'message');
    const [after] = (await once(worker, 'message')) as [number];
    assert.ok(after >= 50 && after < 2000, `the worker ran after ${after.toFixed(0)} ms`);
    await once(worker, 'exit');
  });
});
