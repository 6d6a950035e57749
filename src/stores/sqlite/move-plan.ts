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

/** Positions of a plan's entries (its batches' unmoved entries, in order) that a sort key can hold. */
const POSITIONS = 2 ** 26;

/**
 * The plan is three typed arrays (16 bytes an entry): 64 batches of 10,000 new series each made a `Map` of an array
 * per series — 600,000 arrays, 130 MB in the compaction worker, built anew as the oldest batch changed.
 */
export class MovePlan {
  /** Per position (its batches' unmoved entries, batch by batch), the batch and entry. */
  readonly #batchOf: Uint32Array;
  readonly #entryOf: Uint32Array;
  /** Positions ordered by their series' first position, then position: a series' parts are a run, oldest first. */
  readonly #order: Float64Array;
  /** Where the next step starts in `#order`. */
  #at = 0;
  #seriesLeft = 0;
  /** Points not yet taken. */
  waiting = 0;
  /** Per batch, its entries not yet moved (the caller counts down as it moves them). */
  readonly left: number[];

  constructor(readonly batches: readonly CachedBatch[]) {
    this.left = batches.map(() => 0);
    let n = 0;
    for (const { taken } of batches) for (let i = 0; i < taken.length; i++) if (taken[i] === 0) n++;
    if (n >= POSITIONS) throw new RangeError(`MovePlan: ${n} entries, more than a plan holds`);
    this.#batchOf = new Uint32Array(n);
    this.#entryOf = new Uint32Array(n);
    this.#order = new Float64Array(n);
    const ids = new Float64Array(n);
    let g = 0;
    // Ids rising from entry to entry (batches of new series, ids given in write order): each series once, and the
    // order is the entries' own — no map or sort (at 64 batches of 10,000 new series they took ~140 ms a plan).
    let rising = true;
    batches.forEach(({ fields, taken }, b) => {
      for (let i = 0; i < taken.length; i++) {
        if (taken[i] !== 0) continue;
        this.left[b] = (this.left[b] as number) + 1;
        ids[g] = fields[i * F] as number;
        if (g > 0 && (ids[g] as number) <= (ids[g - 1] as number)) rising = false;
        this.#batchOf[g] = b;
        this.#entryOf[g] = i;
        this.waiting += fields[i * F + 3] as number;
        g++;
      }
    });
    if (rising) {
      for (let k = 0; k < n; k++) this.#order[k] = k * POSITIONS + k;
      this.#seriesLeft = n;
      return;
    }
    const first = new FirstPositions(n);
    for (let k = 0; k < n; k++) this.#order[k] = first.of(ids[k] as number, k) * POSITIONS + k;
    this.#seriesLeft = first.size;
    this.#order.sort();
  }

  /** Whether the plan is of these batches, as the cache holds them now. */
  of(batches: readonly CachedBatch[]): boolean {
    return batches.length === this.batches.length && batches.every((b, k) => b === this.batches[k]);
  }

  /** Series not yet taken. */
  get series(): number {
    return this.#seriesLeft;
  }

  /**
   * The next series in order of appearance, about `budget` points: whole series, or, when the first one alone has
   * more, its oldest parts up to the budget (the rest stay for later steps; a part larger than that alone, in pieces).
   */
  take(budget: number): SeriesParts[] {
    const out: SeriesParts[] = [];
    let moved = 0;
    while (this.#at < this.#order.length) {
      const id = this.#idAt(this.#at);
      let end = this.#at;
      let points = 0;
      for (; end < this.#order.length && this.#idAt(end) === id; end++) points += this.#leftAt(end);
      if (out.length > 0 && moved + points > budget) break;
      if (points <= budget) {
        const parts: PartRef[] = [];
        for (let k = this.#at; k < end; k++) parts.push(this.#ref(k, Infinity));
        out.push({ id, parts, points });
        moved += points;
        this.#at = end;
        this.#seriesLeft--;
        continue;
      }
      const parts: PartRef[] = [];
      let k = this.#at;
      while (k < end && moved < budget) {
        // Whole parts while they fit; a part larger than what is left only alone, in pieces: a chunk of a piece and
        // other parts would carry the newer part's seq for the older parts' points the rest of the piece overrides.
        if (this.#leftAt(k) > budget - moved && parts.length > 0) break;
        const ref = this.#ref(k, budget - moved);
        parts.push(ref);
        moved += ref.to - ref.from;
        if (!ref.ends) break;
        k++;
      }
      out.push({ id, parts, points: moved });
      this.#at = k;
      if (k === end) this.#seriesLeft--;
      break;
    }
    this.waiting -= moved;
    return out;
  }

  /** The series id of the entry at `order[k]`. */
  #idAt(k: number): number {
    const g = (this.#order[k] as number) % POSITIONS;
    return (this.batches[this.#batchOf[g] as number] as CachedBatch).fields[(this.#entryOf[g] as number) * F] as number;
  }

  /** Points of the part at `order[k]` not yet moved. */
  #leftAt(k: number): number {
    const g = (this.#order[k] as number) % POSITIONS;
    const { fields, pieces } = this.batches[this.#batchOf[g] as number] as CachedBatch;
    const entry = this.#entryOf[g] as number;
    return (fields[entry * F + 3] as number) - (pieces.get(entry) ?? 0);
  }

  /** Up to `most` of the points not yet moved of the part at `order[k]`, counted as moved. */
  #ref(k: number, most: number): PartRef {
    const g = (this.#order[k] as number) % POSITIONS;
    const batch = this.#batchOf[g] as number;
    const entry = this.#entryOf[g] as number;
    const { fields, pieces } = this.batches[batch] as CachedBatch;
    const count = fields[entry * F + 3] as number;
    const from = pieces.get(entry) ?? 0;
    const to = Math.min(count, from + most);
    if (to < count) pieces.set(entry, to);
    else pieces.delete(entry);
    return { batch, entry, from, to, ends: to === count };
  }
}

/**
 * The first position of each series id, in an open-addressing table of typed arrays (a `Map` of 640,000 ids took
 * ~110 ms to fill, this ~40).
 */
class FirstPositions {
  readonly #ids: Float64Array;
  readonly #at: Int32Array;
  readonly #mask: number;
  size = 0;

  constructor(most: number) {
    let capacity = 16;
    while (capacity < most * 2) capacity *= 2;
    this.#ids = new Float64Array(capacity).fill(-1);
    this.#at = new Int32Array(capacity);
    this.#mask = capacity - 1;
  }

  /** The first position given for `id` (series ids are ≥ 0), `position` when it is the first. */
  of(id: number, position: number): number {
    let h = (Math.imul(id | 0, 0x9e3779b1) ^ Math.imul((id / 4294967296) | 0, 0x85ebca77)) & this.#mask;
    for (;;) {
      const held = this.#ids[h] as number;
      if (held === id) return this.#at[h] as number;
      if (held === -1) {
        this.#ids[h] = id;
        this.#at[h] = position;
        this.size++;
        return position;
      }
      h = (h + 1) & this.#mask;
    }
  }
}
