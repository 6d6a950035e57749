import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
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
});
