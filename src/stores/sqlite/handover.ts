/**
 * Writes done by the compaction worker: the store's thread packs a request's batch and hands it over; the worker
 * inserts it with a connection of its own (with the store's `synchronous`), holding the write lock, and answers. The
 * SQLite work of a write — its pages, its fsync, waiting for the worker's commits — leaves the host's event loop,
 * and writes handed over meanwhile are inserted in one transaction.
 *
 * New series too: the store hands over a slice of them (`registration`), and the worker adds them and their index
 * entries in one transaction and answers their ids. A transaction of thousands of series writes each index page it
 * touches once: a million new series registered 250 at a time on the store's thread came in at ~30,000 a second
 * (SQLite alone, this machine), 5,000 at a time at ~83,000.
 */
import type Database from 'better-sqlite3';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { PackedBatch } from './recent.js';
import { registerSeries } from './series-ids.js';
import { SqliteSeriesIndex } from './series-index.js';
import { prepareStatements } from './statements.js';
import type { WriteLock } from './write-lock.js';

/** A batch handed over, packed with the series ids of the lock's generation `generation`. */
interface Handed {
  readonly id: number;
  readonly generation: number;
  readonly dir: Uint8Array;
  readonly data: Uint8Array;
}

/** New series handed over (see `registration` in series-ids.ts). */
interface Registration {
  readonly id: number;
  readonly register: string;
}

/** The worker's answer: written (as row `seq`), or not (a delete let the ids go meanwhile); new series' ids; or SQLite's error. */
type Answer =
  | { readonly id: number; readonly written: boolean; readonly seq?: number }
  | { readonly id: number; readonly ids: Float64Array }
  | { readonly id: number; readonly failed: { readonly message: string; readonly code?: string } };

/**
 * What became of a batch handed over: written (as row `seq`); or not — the worker stopped without answering, or (a
 * safeguard: the store lets no whole-series delete run while batches are handed over) the series ids it was packed
 * with were let go — for the store to write again (a batch written twice reads as once: the same points and values).
 */
export type Handover = { readonly seq: number } | 'stale';

/** The store's side of the handover. */
export class Handovers {
  readonly #waiting = new Map<number, { resolve(done: Handover | Float64Array): void; reject(error: Error): void }>();
  /** Called once no batch is waiting for its answer. */
  #idle: (() => void)[] = [];
  #next = 0;
  /** Whether the worker takes batches: from its start until it stops. */
  ready = false;

  constructor(private readonly port: MessagePort) {
    port.on('message', (answer: Answer) => this.#answered(answer));
    port.unref();
  }

  /** Hands over a copy of a batch packed with the series ids of the lock's generation `generation`. */
  write(batch: PackedBatch, generation: number): Promise<Handover> {
    return this.#send((id) => ({ id, generation, dir: batch.dir, data: batch.data }) satisfies Handed) as Promise<Handover>;
  }

  /** Hands over new series (a `registration`): their ids in order, or 'stale' when the worker stopped first. */
  register(list: string): Promise<Float64Array | 'stale'> {
    return this.#send((id) => ({ id, register: list }) satisfies Registration) as Promise<Float64Array | 'stale'>;
  }

  #send(message: (id: number) => Handed | Registration): Promise<Handover | Float64Array> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      // An answer awaited keeps the process alive.
      if (this.#waiting.size === 0) this.port.ref();
      this.#waiting.set(id, { resolve, reject });
      this.port.postMessage(message(id));
    });
  }

  /** Resolves once no batch handed over waits for its answer (those handed over meanwhile too); undefined: none waits. */
  idle(): Promise<void> | undefined {
    return this.#waiting.size === 0 ? undefined : new Promise((resolve) => this.#idle.push(resolve));
  }

  /** The worker stopped: batches it did not answer are stale (answered before `idle()` resolves). */
  stopped(): void {
    this.ready = false;
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const { resolve } of waiting) resolve('stale');
    this.#whenIdle();
    this.port.close();
  }

  #answered(answer: Answer): void {
    const waiting = this.#waiting.get(answer.id);
    if (!waiting) return;
    this.#waiting.delete(answer.id);
    if ('failed' in answer) waiting.reject(Object.assign(new Error(answer.failed.message), { code: answer.failed.code }));
    else if ('ids' in answer) waiting.resolve(answer.ids);
    else waiting.resolve(answer.written && answer.seq !== undefined ? { seq: answer.seq } : 'stale');
    if (this.#waiting.size === 0) {
      this.port.unref();
      this.#whenIdle();
    }
  }

  #whenIdle(): void {
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }
}

/**
 * The worker's side: inserts the batches handed over on `port` with connection `db`, holding `lock`, all those
 * waiting in one transaction — as their messages come, and whenever `serve()` is called (between the worker's steps:
 * a step may take tens of ms). `close()` serves those waiting, then closes the port and the connection.
 */
export function takeHandovers(port: MessagePort, db: Database.Database, lock: WriteLock): { serve(): void; close(): void } {
  const sql = prepareStatements(db);
  const index = new SqliteSeriesIndex(db);
  const insertAll = db.transaction((batches: readonly Handed[]) => batches.map((b) => Number(sql.insertBatch.run(b.dir, b.data).lastInsertRowid)));
  const registerAll = db.transaction((list: string) => registerSeries(sql, index, list));
  const register = ({ id, register: list }: Registration) => {
    try {
      const ids = lock.run(() => registerAll.immediate(list));
      port.postMessage({ id, ids } satisfies Answer, [ids.buffer as ArrayBuffer]);
    } catch (error) {
      port.postMessage({ id, failed: failure(error) } satisfies Answer);
    }
  };
  const serve = (first: Handed | Registration) => {
    const messages = [first];
    for (let more = receiveMessageOnPort(port); more; more = receiveMessageOnPort(port)) messages.push(more.message as Handed | Registration);
    for (const m of messages) if ('register' in m) register(m);
    const handed = messages.filter((m): m is Handed => !('register' in m));
    if (handed.length === 0) return;
    lock.run(() => {
      // Asked holding the lock: a delete of whole series bumps the generation holding it.
      const current = handed.filter((h) => h.generation === lock.generation);
      let seqs: number[] = [];
      try {
        if (current.length > 0) seqs = insertAll.immediate(current);
      } catch (error) {
        for (const h of handed) port.postMessage({ id: h.id, failed: failure(error) } satisfies Answer);
        return;
      }
      for (const h of handed) {
        const at = current.indexOf(h);
        port.postMessage({ id: h.id, written: at >= 0, ...(at >= 0 && { seq: seqs[at] }) } satisfies Answer);
      }
    });
  };
  port.on('message', serve);
  const waiting = () => {
    const first = receiveMessageOnPort(port);
    if (first) serve(first.message as Handed | Registration);
  };
  return {
    serve: waiting,
    close: () => {
      waiting();
      port.close();
      db.close();
    },
  };
}

/** SQLite's error as the worker answers it (its message and code). */
function failure(error: unknown): { readonly message: string; readonly code?: string } {
  const { message, code } = error as { message: string; code?: string };
  return { message, ...(code !== undefined && { code }) };
}
