import type { Tags } from '../store/contract.js';
import { isObject, toTagValue } from './rules.js';

/**
 * One distinct tag set, interned across requests: its sorted, frozen tags, and the series of the
 * request that is using it now (`S`, cleared again by `TagSets.release`).
 */
export interface TagSet<S> {
  readonly tags: Tags;
  /** How many tags. */
  readonly count: number;
  /** Another tag set with the same hash, if any. */
  next: TagSet<S> | undefined;
  /** Whether the current request uses it. */
  inUse: boolean;
  /** The series of the first metric name and type seen with these tags in the current request… */
  first: S | undefined;
  /** …and of any further ones, by metric name (one per value type). */
  others: Map<string, S[]> | undefined;
}

/** Tag sets kept per hash before further ones (crafted collisions) go to an exact map: bounded work per metric. */
const MAX_CHAIN = 8;

/** Distinct tag sets kept between requests; past this, the cache starts again empty after the request. */
export const TAG_SET_CAPACITY = 16_384;

/**
 * The tag sets a middleware has seen, so that a tag set sent again (as collectors do every interval)
 * is found by an order-independent hash of its pairs and confirmed pair by pair, without sorting,
 * copying or validating it again. Requests are normalised one at a time, synchronously.
 */
export class TagSets<S> {
  readonly #byHash = new Map<number, TagSet<S>>();
  /** Tag sets whose hash chain was full (colliding hashes), by their exact sorted key. */
  readonly #exact = new Map<string, TagSet<S>>();
  /** Tag sets holding series of the current request. */
  readonly #used: TagSet<S>[] = [];
  #size = 0;

  constructor(readonly capacity = TAG_SET_CAPACITY) {}

  /** How many tag sets are kept. */
  get size(): number {
    return this.#size;
  }

  /** The tag set of a JSON tags object, or `undefined` if it is not a valid one. */
  find(json: unknown): TagSet<S> | undefined {
    if (!isObject(json)) return undefined;
    let hash = 0;
    let count = 0;
    for (const name in json) {
      const text = tagText(json[name]);
      if (text === undefined) return undefined;
      hash = (hash + pairHash(name, text)) | 0;
      count++;
    }
    if (count === 0) return undefined;
    const first = this.#byHash.get(hash);
    let depth = 0;
    for (let set = first; set; set = set.next, depth++) if (sameTags(set, json, count)) return this.#use(set);
    const tags = sortedTags(json);
    if (!tags) return undefined;
    if (depth < MAX_CHAIN) {
      const set = this.#add(tags, count, first);
      this.#byHash.set(hash, set);
      return this.#use(set);
    }
    const key = JSON.stringify(Object.entries(tags));
    let set = this.#exact.get(key);
    if (!set) this.#exact.set(key, (set = this.#add(tags, count, undefined)));
    return this.#use(set);
  }

  /** Ends a request: forgets its series, and empties the cache if it outgrew its capacity. */
  release(): void {
    for (const set of this.#used) {
      set.inUse = false;
      set.first = undefined;
      set.others = undefined;
    }
    this.#used.length = 0;
    if (this.#size > this.capacity) {
      this.#byHash.clear();
      this.#exact.clear();
      this.#size = 0;
    }
  }

  #add(tags: Tags, count: number, next: TagSet<S> | undefined): TagSet<S> {
    this.#size++;
    return { tags, count, next, inUse: false, first: undefined, others: undefined };
  }

  #use(set: TagSet<S>): TagSet<S> {
    if (!set.inUse) {
      set.inUse = true;
      this.#used.push(set);
    }
    return set;
  }
}

/** A tag value's text for hashing and comparing; strings are validated when a tag set is first stored. */
function tagText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return typeof value === 'boolean' ? String(value) : undefined;
}

/** FNV-1a over a tag name, a separator and its value; a tag set's hash is the sum over its pairs. */
export function pairHash(name: string, text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0xffff, 0x01000193);
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/** Whether a JSON tags object (already hashed, so every value has a text) holds exactly the tags of a set. */
function sameTags(set: TagSet<unknown>, json: Record<string, unknown>, count: number): boolean {
  if (set.count !== count) return false;
  for (const name in json) {
    if (set.tags[name] !== tagText(json[name])) return false;
  }
  return true;
}

/** Sorts names by UTF-16 code units, as `Array#sort` does; a few by insertion, without its per-call cost. */
function sortNames(names: string[]): string[] {
  if (names.length > 16) return names.sort();
  for (let i = 1; i < names.length; i++) {
    const name = names[i] as string;
    let j = i - 1;
    while (j >= 0 && (names[j] as string) > name) {
      names[j + 1] = names[j] as string;
      j--;
    }
    names[j + 1] = name;
  }
  return names;
}

function sortedTags(json: Record<string, unknown>): Tags | undefined {
  const tags: Record<string, string> = Object.create(null);
  for (const name of sortNames(Object.keys(json))) {
    const value = toTagValue(json[name]);
    if (name === '' || value === undefined || !name.isWellFormed()) return undefined;
    tags[name] = value;
  }
  return Object.freeze(tags);
}
