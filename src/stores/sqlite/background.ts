/**
 * The SQLite store's background compaction: a loop of short steps, on the store's own thread or — for a database
 * file — in a worker thread with connections of its own, which also writes the requests' batches (handover.ts), so
 * that the host's event loop only parses and packs.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Compactor } from './compactor.js';
import { Handovers } from './handover.js';

/** Longest stretch of compaction at once, ms: the thread gets a turn (timers, messages) between stretches. */
const COMPACT_SLICE_MS = 10;

/** How often the compaction worker copies the log into the database file (a passive checkpoint), ms. */
export const CHECKPOINT_MS = 100;
/** Pages in the log past which it is copied whole and started over (SQLite's own threshold for a checkpoint). */
export const LOG_PAGES = 1000;

/** What a compaction worker is started with (structured-cloned into it). */
export interface WorkerSettings {
  readonly path: string;
  readonly compactIntervalMs: number;
  readonly purgeIntervalMs: number;
  readonly maxWaitMs: number;
  /** The write lock's shared memory. */
  readonly lock: SharedArrayBuffer;
  /** The store's `synchronous`, for the writes handed over. */
  readonly synchronous: 'FULL' | 'NORMAL';
}

/** What the worker is started with: the settings and its end of the handover's channel. */
export interface WorkerData extends WorkerSettings {
  readonly writes: MessagePort;
}

/**
 * A message from the worker: ready for 'close' (a message before it listens would be lost), a warning for the host,
 * or the number of series it was asked to count ('count').
 */
export type WorkerMessage = { readonly ready: true } | { readonly warning: string } | { readonly series: number | null };

/**
 * Runs `compactor` in steps: after a step that left work, again at once; otherwise after `intervalMs`. Marks windows
 * with expired points for a merge every `purgeIntervalMs` (0 never). Returns what stops it.
 */
export function compactionLoop(compactor: Compactor, intervalMs: number, purgeIntervalMs: number, warn: (message: string) => void): () => void {
  const quietly = failingQuietly(warn);
  let timer: NodeJS.Timeout | undefined;
  const schedule = (delay: number) => {
    timer = setTimeout(() => {
      let more = false;
      quietly(() => (more = compactor.step(COMPACT_SLICE_MS)));
      schedule(more ? 1 : intervalMs);
    }, delay).unref();
  };
  if (intervalMs > 0) schedule(intervalMs);
  const purge = purgeIntervalMs > 0 ? setInterval(() => quietly(() => compactor.expire()), purgeIntervalMs).unref() : undefined;
  return () => {
    clearTimeout(timer);
    clearInterval(purge);
  };
}

/**
 * Runs compaction work whose failure is no caller's: busy (another process writing) or failing, the rows stay
 * where they are and are read from there, tried again later; anything but busy is told once.
 */
export function failingQuietly(warn: (message: string) => void): (work: () => void) => void {
  let warned = false;
  return (work) => {
    try {
      work();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY') && !warned) {
        warned = true;
        warn(`SqliteStore: background compaction failed (points stay readable where they are): ${(error as Error).message}`);
      }
    }
  };
}

/** A compaction worker, as the store sees it. */
export interface CompactionWorker {
  /** The batches handed over to it (once `writes.ready`). */
  readonly writes: Handovers;
  /** Resolves once it takes batches, or has stopped. */
  readonly started: Promise<void>;
  /** Lets it finish its step and the batches handed over, and close its connections. */
  stop(): Promise<void>;
  /** Counts the store's series on its own connection (the host's event loop does not scan the index); undefined once it has stopped. */
  countSeries(): Promise<number | undefined>;
}

/** Starts the compaction worker, which also writes the batches handed over to it. */
export function compactionWorker(settings: WorkerSettings, warn: (message: string) => void, exited: () => void): CompactionWorker {
  const channel = new MessageChannel();
  const writes = new Handovers(channel.port1);
  const worker = start({ ...settings, writes: channel.port2 });
  let up = () => {};
  const started = new Promise<void>((resolve) => (up = resolve));
  let running = true;
  let ready = false;
  let closing = false;
  const close = () => {
    // Waited for: held alive until it has closed its connection.
    worker.ref();
    worker.postMessage('close');
  };
  let counts: ((n: number | undefined) => void)[] = [];
  const answer = (n: number | undefined) => {
    for (const resolve of counts) resolve(n);
    counts = [];
    if (!closing) worker.unref();
  };
  worker.on('message', (m: WorkerMessage) => {
    if ('warning' in m) return warn(m.warning);
    if ('series' in m) return answer(m.series ?? undefined);
    ready = true;
    writes.ready = !closing;
    up();
    if (closing) close();
  });
  worker.on('error', (error) => warn(`SqliteStore: the compaction worker stopped (writes are now done, and compact when it falls behind, on the store's thread): ${error.message}`));
  const gone = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      running = false;
      answer(undefined);
      writes.stopped();
      exited();
      up();
      resolve();
    }),
  );
  // The host's process may end without closing the store (after the listeners: adding one holds the worker again).
  worker.unref();
  return {
    writes,
    started,
    countSeries: () => {
      if (!running || !ready || closing) return Promise.resolve(undefined);
      const counted = new Promise<number | undefined>((resolve) => counts.push(resolve));
      if (counts.length === 1) {
        // Held alive until it answers (an unanswered count would leave the process nothing to wait for).
        worker.ref();
        worker.postMessage('count');
      }
      return counted;
    },
    stop: async () => {
      if (running && !closing) {
        closing = true;
        writes.ready = false;
        if (ready) close();
        else worker.ref();
      }
      await gone;
    },
  };
}

function start(data: WorkerData): Worker {
  const options = { workerData: data, transferList: [data.writes] };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./compaction-worker.js', import.meta.url), options);
  // Run from the TypeScript sources (this repository's tests, benchmark and example): the worker loads them with tsx.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./compaction-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => api.register()).then(() => import(${JSON.stringify(entry)}))`, { eval: true, ...options });
}
