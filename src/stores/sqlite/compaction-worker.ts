/**
 * The compaction worker's thread: its own connection to the store's file, the same loop of steps the store would run
 * itself, each transaction under the store's write lock. Stops on 'close' once its current step is done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compactionLoop, type WorkerMessage, type WorkerSettings } from './background.js';
import { Compactor } from './compactor.js';
import { open } from './options.js';
import { prepareStatements } from './statements.js';
import { WriteLock } from './write-lock.js';

const settings = workerData as WorkerSettings;
const port = parentPort;
if (!port) throw new Error('compaction-worker: run it as a worker thread of SqliteStore');
const db = open(settings.path);
db.pragma('journal_mode = WAL');
// Compaction's commits need no fsync of their own: one lost to a power cut leaves the points in the batches they
// came from (a transaction commits whole or not at all), and the store's next FULL commit syncs the log up to it.
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const lock = new WriteLock(settings.lock, 'worker');
let generation = lock.generation;
const compactor: Compactor = new Compactor(db, prepareStatements(db), Date.now, settings.maxWaitMs, {
  exclusive: (work) =>
    lock.run(() => {
      const done = work();
      lock.moved = compactor.moved;
      return done;
    }),
  idsChanged: () => {
    if (lock.generation === generation) return false;
    generation = lock.generation;
    return true;
  },
});
const stop = compactionLoop(compactor, settings.compactIntervalMs, settings.purgeIntervalMs, (warning) => port.postMessage({ warning } satisfies WorkerMessage));
port.on('message', (message) => {
  if (message !== 'close') return;
  stop();
  db.close();
  port.close();
});
port.postMessage({ ready: true } satisfies WorkerMessage);
