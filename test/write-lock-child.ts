// A process with nothing to do but a write waiting for the lock, held by a thread that does not keep the process
// alive (as the compaction worker does not): the wait itself must keep the process alive until the write has run.
import { Worker } from 'node:worker_threads';
import { WriteLock } from '../src/stores/sqlite/write-lock.js';

const lock = new WriteLock(WriteLock.memory(), 'store');
const code = `
  const { parentPort, workerData } = require('node:worker_threads');
  const cells = new Int32Array(workerData.memory);
  Atomics.compareExchange(cells, 0, 0, 1);
  parentPort.postMessage('held');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
  Atomics.store(cells, 0, 0);
  Atomics.notify(cells, 0);`;
const holder = new Worker(code, { eval: true, workerData: { memory: lock.memory, holdMs: Number(process.argv[2]) } });
await new Promise((resolve) => holder.once('message', resolve));
holder.unref();
console.log(await lock.runAsync(() => 'written'));
