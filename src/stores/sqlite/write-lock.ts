/**
 * Who writes to the file now: the store's thread or its compaction worker, one at a time. SQLite would serialise
 * them too, but a writer that finds the file locked sleeps in SQLite's busy handler, and on the store's thread that
 * sleep would stop the host's event loop; here the store's thread waits for the worker without blocking
 * (`Atomics.waitAsync`), and the worker leaves the lock to waiting requests until they have had it (they take it in
 * a turn of their event loop, late when it is busy; the worker waits up to HANDOFF_MS a step).
 * Shared memory: [holder (0 none, 1 worker, 2 store), store's waiting writes, generation, points moved]. The
 * generation counts the store's deletes of whole series: their ids may come back for other series, so the worker
 * forgets what it knows. Points moved (modulo 2^32) is the worker's progress, which writes wait for when it is behind.
 */
import { keepAlive } from './keep-alive.js';

const HOLDER = 0;
const WAITING = 1;
const GENERATION = 2;
const MOVED = 3;
const NONE = 0;
/** How long a waiter sleeps before it looks again without being woken (ms): a missed wake-up costs no more. */
const RECHECK_MS = 50;
/** Longest the worker leaves the free lock to the store's waiting writes in one call (ms): compaction still moves. */
const HANDOFF_MS = 100;

export type Side = 'store' | 'worker';

export class WriteLock {
  readonly #cells: Int32Array;
  readonly #me: number;
  #depth = 0;

  constructor(
    readonly memory: SharedArrayBuffer,
    side: Side,
    /** Longest the worker's side leaves the free lock to waiting writes in one call (ms). */
    private readonly handoffMs = HANDOFF_MS,
  ) {
    this.#cells = new Int32Array(memory);
    this.#me = side === 'worker' ? 1 : 2;
  }

  static memory(): SharedArrayBuffer {
    return new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT);
  }

  get generation(): number {
    return Atomics.load(this.#cells, GENERATION);
  }

  /** Tells the worker that series ids may now name other series (call while holding the lock). */
  bumpGeneration(): void {
    Atomics.add(this.#cells, GENERATION, 1);
  }

  /** Points the worker has moved into chunks, modulo 2^32: compare two readings by `(later - earlier) | 0`. */
  get moved(): number {
    return Atomics.load(this.#cells, MOVED);
  }

  set moved(points: number) {
    Atomics.store(this.#cells, MOVED, points | 0);
  }

  /** Runs `work` holding the lock, blocking this thread while the other side holds it (held already: just runs). */
  run<T>(work: () => T): T {
    // The store's side never yields; the worker leaves the lock to the store's waiting writes until they have had it
    // (they take it in a turn of their event loop, which may be busy) — for up to HANDOFF_MS a call.
    const yieldUntil = this.#me === 1 ? performance.now() + this.handoffMs : 0;
    while (this.#depth === 0) {
      if (Atomics.load(this.#cells, WAITING) > 0 && performance.now() < yieldUntil) {
        const holder = Atomics.load(this.#cells, HOLDER);
        // Free: look again in a moment; held by the store: until it lets go.
        Atomics.wait(this.#cells, HOLDER, holder, holder === NONE ? 1 : RECHECK_MS);
        continue;
      }
      if (this.#take()) break;
      const holder = Atomics.load(this.#cells, HOLDER);
      if (holder !== NONE) Atomics.wait(this.#cells, HOLDER, holder, RECHECK_MS);
    }
    return this.#holding(work);
  }

  /** Runs `work` (synchronous) holding the lock, waiting without blocking while the other side holds it. */
  async runAsync<T>(work: () => T): Promise<T> {
    if (this.#depth > 0 || this.#take()) return this.#holding(work);
    // Counted as waiting until the lock is taken: the worker leaves it free meanwhile.
    Atomics.add(this.#cells, WAITING, 1);
    const letGo = keepAlive();
    try {
      // Taken and then held in one turn: another waiting write must never find it taken but not yet held.
      while (this.#depth === 0 && !this.#take()) {
        const wait = Atomics.waitAsync(this.#cells, HOLDER, 3 - this.#me, RECHECK_MS);
        if (wait.async) await wait.value;
      }
    } finally {
      letGo();
      Atomics.sub(this.#cells, WAITING, 1);
    }
    return this.#holding(work);
  }

  /** Frees the lock if the other side died holding it. */
  releaseDead(): void {
    if (Atomics.compareExchange(this.#cells, HOLDER, 3 - this.#me, NONE) === 3 - this.#me) Atomics.notify(this.#cells, HOLDER);
  }

  #take(): boolean {
    return Atomics.compareExchange(this.#cells, HOLDER, NONE, this.#me) === NONE;
  }

  #holding<T>(work: () => T): T {
    this.#depth++;
    try {
      return work();
    } finally {
      if (--this.#depth === 0) {
        Atomics.store(this.#cells, HOLDER, NONE);
        Atomics.notify(this.#cells, HOLDER);
      }
    }
  }
}
