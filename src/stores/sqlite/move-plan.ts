/**
 * The series waiting in a set of batches, worked through step by step: built once per set (one pass over every
 * entry), so each step costs what it moves, not a pass over tens of thousands of entries.
 */
import { DIRECTORY_FIELDS as F } from './batch.js';
import type { CachedBatch } from './batch-cache.js';

/** One series' parts to move: pairs of (batch index, entry index) in the plan's batches, oldest first. */
export interface SeriesParts {
  readonly id: number;
  readonly entries: readonly number[];
  readonly points: number;
}

export class MovePlan {
  /** Series ids in order of appearance. */
  readonly #order: number[] = [];
  /** Per series, its unmoved parts as (batch index, entry index) pairs, and their points. */
  readonly #entries = new Map<number, number[]>();
  readonly #points = new Map<number, number>();
  #next = 0;
  /** Points not yet taken. */
  waiting = 0;
  /** Per batch, its entries not yet moved (the caller counts down as it moves them). */
  readonly left: number[];

  constructor(readonly batches: readonly CachedBatch[]) {
    this.left = batches.map(() => 0);
    batches.forEach(({ fields, taken }, b) => {
      for (let i = 0; i < taken.length; i++) {
        if (taken[i] !== 0) continue;
        this.left[b] = (this.left[b] as number) + 1;
        const id = fields[i * F] as number;
        const count = fields[i * F + 3] as number;
        let list = this.#entries.get(id);
        if (!list) {
          this.#entries.set(id, (list = []));
          this.#order.push(id);
        }
        list.push(b, i);
        this.#points.set(id, (this.#points.get(id) ?? 0) + count);
        this.waiting += count;
      }
    });
  }

  /** Whether the plan is of these batches, as the cache holds them now. */
  of(batches: readonly CachedBatch[]): boolean {
    return batches.length === this.batches.length && batches.every((b, k) => b === this.batches[k]);
  }

  /** Series not yet taken. */
  get series(): number {
    return this.#order.length - this.#next;
  }

  /**
   * The next series in order of appearance, about `budget` points: whole series, or, when the first one alone has
   * more, its oldest parts up to the budget (each part whole; the rest stay for later steps).
   */
  take(budget: number): SeriesParts[] {
    const out: SeriesParts[] = [];
    let moved = 0;
    while (this.#next < this.#order.length) {
      const id = this.#order[this.#next] as number;
      const entries = this.#entries.get(id) as number[];
      const points = this.#points.get(id) as number;
      if (out.length > 0 && moved + points > budget) break;
      if (points <= budget) {
        out.push({ id, entries, points });
        moved += points;
        this.#next++;
        continue;
      }
      let k = 0;
      let taken = 0;
      while (k < entries.length && taken < budget) {
        const [b, i] = [entries[k] as number, entries[k + 1] as number];
        taken += (this.batches[b] as CachedBatch).fields[i * F + 3] as number;
        k += 2;
      }
      out.push({ id, entries: entries.slice(0, k), points: taken });
      moved += taken;
      if (k === entries.length) this.#next++;
      else {
        this.#entries.set(id, entries.slice(k));
        this.#points.set(id, points - taken);
      }
      break;
    }
    this.waiting -= moved;
    return out;
  }
}
