/**
 * The compaction worker's thread: its own connection to the store's file, the same loop of steps the store would run
 * itself, each transaction under the store's write lock; and a second connection writing the batches the store
 * hands over (see handover.ts). Stops on 'close' once its current step and the batches handed over are done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CHECKPOINT_MS, compactionLoop, failingQuietly, LOG_PAGES, type WorkerData, type WorkerMessage } from './background.js';
import { Compactor } from './compactor.js';
import { takeHandovers } from './handover.js';
import { open } from './open.js';
import { prepareStatements } from './statements.js';
import { WriteLock } from './write-lock.js';

const settings = workerData as WorkerData;
const port = parentPort;
if (!port) throw new Error('compaction-worker: run it as a worker thread of SqliteStore');

/**
 * A connection to the store's file. The log is copied into the file by this thread (see checkpoint), not in whichever
 * commit passes SQLite's threshold: on the store's thread that copy (tens of ms when the log is busy) would stop the
 * host's event loop.
 */
function connect(synchronous: 'FULL' | 'NORMAL') {
  const connection = open(settings.path);
  connection.pragma('journal_mode = WAL');
  connection.pragma(`synchronous = ${synchronous}`);
  connection.pragma('busy_timeout = 5000');
  connection.pragma('wal_autocheckpoint = 0');
  return connection;
}

// Compaction's commits need no fsync of their own: one lost to a power cut leaves the points in the batches they
// came from (a transaction commits whole or not at all), and the store's next FULL commit syncs the log up to it.
const db = connect('NORMAL');
const lock = new WriteLock(settings.lock, 'worker');
const handovers = takeHandovers(settings.writes, connect(settings.synchronous), lock);
let generation = lock.generation;
const compactor: Compactor = new Compactor(db, prepareStatements(db), Date.now, settings.maxWaitMs, {
  exclusive: (work) => {
    // The writes handed over meanwhile first: a step's preparation may have taken a while.
    handovers.serve();
    return lock.run(() => {
      const done = work();
      lock.moved = compactor.moved;
      return done;
    });
  },
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
  handovers.serve();
  const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)') as [{ log: number }];
  if (log >= LOG_PAGES) lock.run(() => db.pragma('wal_checkpoint(PASSIVE)'));
}

const warn = (warning: string) => port.postMessage({ warning } satisfies WorkerMessage);
const stop = compactionLoop(compactor, settings.compactIntervalMs, settings.purgeIntervalMs, warn);
const quietly = failingQuietly(warn);
const checkpoints = setInterval(() => quietly(checkpoint), CHECKPOINT_MS).unref();
// The store's series, counted here when the store asks so that the host's event loop never scans the index.
const countSeries = db.prepare('SELECT count(*) AS n FROM series');
const count = () => {
  let series: number | null = null;
  quietly(() => (series = (countSeries.get() as { n: number }).n));
  port.postMessage({ series } satisfies WorkerMessage);
};
port.on('message', (message) => {
  if (message === 'count') count();
  if (message !== 'close') return;
  stop();
  clearInterval(checkpoints);
  handovers.close();
  db.close();
  port.close();
});
port.postMessage({ ready: true } satisfies WorkerMessage);
