/**
 * The series waiting in a set of batches, worked through step by step: built once per set (one pass over every
 * entry), so each step costs what it moves, not a pass over tens of thousands of entries.
 */
import { DIRECTORY_FIELDS as F } from './batch.js';
import type { CachedBatch } from './batch-cache.js';

/** Points `from` to `to` (exclusive) of one part: entry `entry` of batch `batch` (indices in the plan's batches). */
export interface PartRef {
  readonly batch: number;
  readonly entry: number;
  readonly from: number;
  readonly to: number;
  /** Whether these are the part's last points (the part is then moved). */
  readonly ends: boolean;
}

/** One series' parts to move, oldest first. */
export interface SeriesParts {
  readonly id: number;
  readonly parts: readonly PartRef[];
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
   * more, its oldest parts up to the budget (the rest stay for later steps; a part larger than that alone, in pieces).
   */
  take(budget: number): SeriesParts[] {
    const out: SeriesParts[] = [];
    let moved = 0;
    while (this.#next < this.#order.length) {
      const id = this.#order[this.#next] as number;
      const entries = this.#entries.get(id) as number[];
      const points = this.#points.get(id) as number;
      // (A part moved in pieces counts whole here: its first steps may move less than the budget.)
      if (out.length > 0 && moved + points > budget) break;
      if (points <= budget) {
        const parts: PartRef[] = [];
        for (let k = 0; k < entries.length; k += 2) parts.push(this.#ref(entries[k] as number, entries[k + 1] as number, Infinity));
        out.push({ id, parts, points });
        moved += points;
        this.#next++;
        continue;
      }
      const parts: PartRef[] = [];
      let k = 0;
      while (k < entries.length && moved < budget) {
        const [b, i] = [entries[k] as number, entries[k + 1] as number];
        // Whole parts while they fit; a part larger than what is left only alone, in pieces: a chunk of a piece and
        // other parts would carry the newer part's seq for the older parts' points the rest of the piece overrides.
        if (this.#left(b, i) > budget - moved && parts.length > 0) break;
        const ref = this.#ref(b, i, budget - moved);
        parts.push(ref);
        moved += ref.to - ref.from;
        if (!ref.ends) break;
        k += 2;
      }
      out.push({ id, parts, points: moved });
      if (k === entries.length) this.#next++;
      else {
        this.#entries.set(id, entries.slice(k));
        this.#points.set(id, points - moved);
      }
      break;
    }
    this.waiting -= moved;
    return out;
  }

  /** Points of a part not yet moved. */
  #left(batch: number, entry: number): number {
    const { fields, pieces } = this.batches[batch] as CachedBatch;
    return (fields[entry * F + 3] as number) - (pieces.get(entry) ?? 0);
  }

  /** Up to `most` of the points of a part not yet moved, counted as moved. */
  #ref(batch: number, entry: number, most: number): PartRef {
    const { fields, pieces } = this.batches[batch] as CachedBatch;
    const count = fields[entry * F + 3] as number;
    const from = pieces.get(entry) ?? 0;
    const to = Math.min(count, from + most);
    if (to < count) pieces.set(entry, to);
    else pieces.delete(entry);
    return { batch, entry, from, to, ends: to === count };
  }
}
