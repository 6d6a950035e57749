/**
 * The compaction worker's thread: its own connection to the store's file, the same loop of steps the store would run
 * itself, each transaction under the store's write lock. Stops on 'close' once its current step is done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CHECKPOINT_MS, compactionLoop, failingQuietly, LOG_PAGES, type WorkerMessage, type WorkerSettings } from './background.js';
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
// The log is copied into the database file here, not in whichever commit passes SQLite's threshold: on the store's
// thread that copy (tens of ms when the log is busy) would stop the host's event loop.
db.pragma('wal_autocheckpoint = 0');
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
/**
 * Copies the log into the file while the store's writes go on; once the log is long, copies what they added meanwhile
 * holding the write lock: the next write then finds all of it copied and starts the log over (a copy racing the
 * writes would leave it growing).
 */
function checkpoint(): void {
  const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)') as [{ log: number }];
  if (log >= LOG_PAGES) lock.run(() => db.pragma('wal_checkpoint(PASSIVE)'));
}

const warn = (warning: string) => port.postMessage({ warning } satisfies WorkerMessage);
const stop = compactionLoop(compactor, settings.compactIntervalMs, settings.purgeIntervalMs, warn);
const quietly = failingQuietly(warn);
const checkpoints = setInterval(() => quietly(checkpoint), CHECKPOINT_MS).unref();
port.on('message', (message) => {
  if (message !== 'close') return;
  stop();
  clearInterval(checkpoints);
  db.close();
  port.close();
});
port.postMessage({ ready: true } satisfies WorkerMessage);
