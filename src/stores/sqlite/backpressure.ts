/**
 * Writes waiting for the compaction worker, in a row: each is owed the worker's progress for its own points on top
 * of what the writes waiting before it are owed, so that together they let in no more points than the worker moves
 * (side by side, eight writes waiting for the same 10,000 points let in 80,000). Progress is the worker's count of
 * points moved, modulo 2^32.
 */
export class WaitingWrites {
  #waiting = 0;
  /** The progress the last waiting write waits for. */
  #owed = 0;

  /** A write of `points` starts waiting while the worker's count is `moved`; returns the count it waits for. */
  enter(moved: number, points: number): number {
    const from = this.#waiting > 0 && ((this.#owed - moved) | 0) > 0 ? this.#owed : moved;
    this.#owed = (from + points) | 0;
    this.#waiting++;
    return this.#owed;
  }

  /** A write stops waiting (answered, or moved its points itself). */
  leave(): void {
    this.#waiting--;
  }
}

/** Whether the worker's count `moved` has reached `target` (both modulo 2^32). */
export const reached = (moved: number, target: number): boolean => ((moved - target) | 0) >= 0;
