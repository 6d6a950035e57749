/**
 * Tag sets kept between the requests of one middleware, so that a set a collector sends every interval is found
 * instead of being sorted, copied and validated again. Part of the ingest hot path (normalise.ts states its rules).
 *
 * Rules: kept tag objects are frozen and shared between requests (stores must treat `tags` as read-only); a set is
 * kept only from its second request on (tags that never repeat die young); memory is bounded by count and characters.
 * Bench before and after a change: `npm run bench -- --quick`, shapes (b) and (b-new) especially.
 *
 * The constants and the measurements behind them (bench/RESULTS.md, sessions 2 and 3):
 * - TAG_SET_CAPACITY 16,384 and KEPT_CHARS_CAPACITY 1 Mi characters: about 12 MB in the worst case measured
 *   after GC (16,000 sets of 8 tags, each also in a second order: 12.3 MB); past either, the cache starts again.
 * - MAX_KEPT_TAGS 16: from about 18 tags V8 keeps a tags object built key by key as a dictionary (2.3 kB a set at
 *   32 tiny tags, 0.55 kB at 16). MAX_KEPT_CHARS 512 bounds one set.
 * - PATH_TAGS 8 and PATH_NODES_PER_SET 4: paths (a trie of pairs in arrival order) halve a (b) lookup, 160 → 80 ns,
 *   and are added only while they have room, so 65,536 nodes at most.
 * - SEEN_BITS 64 Ki: the filter that admits a set only once its hash was seen in an earlier request; keeping every
 *   set at once made (b-new) about 15 % slower (GC of promoted sets, freezes).
 * - Paths are consulted only while half the previous request's lookups hit: always on, (b-new) was about 27 % slower.
 */
import type { Tags } from '../store-api/contract.js';
import { isObject } from '../json.js';
import { DEFAULT_TAG_LIMITS, toTagValue, type TagLimits } from './rules.js';
import { TagSetIndex, tagText, type TagSet } from './tag-set-index.js';
import { TagPaths } from './tag-paths.js';

export type { TagSet } from './tag-set-index.js';

/** Distinct tag sets kept between requests; past this, the cache starts again empty after the request. */
const TAG_SET_CAPACITY = 16_384;

/** Characters (tag names and values) of all kept sets; past this, too, the cache starts again empty after the request. */
const KEPT_CHARS_CAPACITY = 1 << 20;

/**
 * Only tag sets this small are kept (from about 18 tags, V8 keeps a tags object built key by key as a larger,
 * slower dictionary).
 */
const MAX_KEPT_TAGS = 16;
const MAX_KEPT_CHARS = 512;

/** Only kept sets of at most this many tags get paths. */
const PATH_TAGS = 8;

/** Path nodes (one per pair) per tag set of the capacity: paths are added while there is room, until the cache starts again. */
const PATH_NODES_PER_SET = 4;

/** Bits of the filter that lets a tag set into the cache only when its hash was seen in an earlier request. */
const SEEN_BITS = 1 << 16;

/**
 * The tag sets of a middleware's requests. A tag set sent again (as collectors do every interval) is
 * found without sorting, copying or validating it again: first by the path of its pairs in the order they
 * came in (string comparisons and V8's own string hashes), else by an order-independent hash of its pairs,
 * confirmed pair by pair. Tag sets are kept between requests only from their second request on, so
 * tags that never repeat die young with their request, and only when they are small (`MAX_KEPT_TAGS`,
 * `MAX_KEPT_CHARS`). Requests are normalised one at a time.
 */
export class TagSets<S> {
  #kept = new TagSetIndex<S>();
  /**
   * Kept tag sets by the sequences of pairs they came in (a set sent in two orders has two paths); a path is added
   * when a kept set is found by its hash while paths are in use, so from a set's third request on at the earliest.
   */
  readonly #paths = new TagPaths<S>();
  /** Tag sets of the current request that are not kept. */
  #fresh = new TagSetIndex<S>();
  /**
   * Hashes seen in earlier requests, one bit each (cleared when a quarter is set). Marked when a request ends,
   * so every tag set with one hash goes to the same index for the whole request.
   */
  readonly #seen = new Uint8Array(SEEN_BITS);
  #seenCount = 0;
  /** Tag sets holding series of the current request. */
  readonly #used: TagSet<S>[] = [];
  /**
   * Whether to look tag sets up by path first: while at least half the lookups of the previous request found a kept
   * set. When most tag sets are new (or the cache is too small for them), a path would mostly miss and cost a lookup.
   */
  #byPath = false;
  /** Whether a body normalised in turns holds the sets (normalise.ts): one normalised meanwhile takes new ones. */
  busy = false;
  #lookups = 0;
  #keptFound = 0;

  readonly #pathNodes: number;

  constructor(
    readonly capacity = TAG_SET_CAPACITY,
    readonly limits: TagLimits = DEFAULT_TAG_LIMITS,
  ) {
    this.#pathNodes = PATH_NODES_PER_SET * capacity;
  }

  /** How many tag sets are kept between requests. */
  get size(): number {
    return this.#kept.size;
  }

  /** The tag set of a JSON tags object, or `undefined` if it is not a valid one. */
  find(json: unknown): TagSet<S> | undefined {
    if (!isObject(json)) return undefined;
    this.#lookups++;
    if (this.#byPath) {
      const onPath = this.#paths.find(json);
      if (onPath) {
        this.#keptFound++;
        return this.#use(onPath);
      }
    }
    let hash = 0;
    let count = 0;
    let chars = 0;
    const { maxTags, maxNameLength, maxValueLength } = this.limits;
    for (const name in json) {
      const text = tagText(json[name]);
      if (text === undefined || name.length > maxNameLength || text.length > maxValueLength) return undefined;
      hash = (hash + pairHash(name, text)) | 0;
      count++;
      chars += name.length + text.length;
    }
    if (count === 0 || count > maxTags) return undefined;
    const kept = this.#kept.find(hash, json, count);
    if (kept) {
      this.#keptFound++;
      if (this.#byPath && count <= PATH_TAGS && this.#paths.nodes < this.#pathNodes) this.#paths.add(json, kept);
      return this.#use(kept);
    }
    const found = this.#fresh.find(hash, json, count);
    if (found) return this.#use(found);
    const tags = sortedTags(json);
    if (!tags) return undefined;
    const keep = this.#seenBefore(hash) && count <= MAX_KEPT_TAGS && chars <= MAX_KEPT_CHARS;
    if (!keep) return this.#use(this.#fresh.add(hash, tags, count, chars));
    return this.#use(this.#kept.add(hash, Object.freeze(tags), count, chars));
  }

  /** Ends a request: forgets its series and its unkept tag sets, and empties the cache if it outgrew its capacity. */
  release(): void {
    for (const set of this.#used) {
      this.#markSeen(set.hash);
      set.inUse = false;
      set.first = undefined;
      set.others = undefined;
    }
    this.#used.length = 0;
    this.#byPath = this.#keptFound > 0 && this.#keptFound * 2 >= this.#lookups;
    this.#lookups = 0;
    this.#keptFound = 0;
    if (this.#fresh.size > 0) this.#fresh = new TagSetIndex();
    if (this.#kept.size > this.capacity || this.#kept.chars > KEPT_CHARS_CAPACITY) {
      this.#kept = new TagSetIndex();
      this.#paths.clear();
    }
  }

  /** Whether a hash was seen in an earlier request. */
  #seenBefore(hash: number): boolean {
    return this.#seen[seenBit(hash)] === 1;
  }

  #markSeen(hash: number): void {
    const bit = seenBit(hash);
    if (this.#seen[bit] === 1) return;
    if (this.#seenCount >= SEEN_BITS / 4) {
      this.#seen.fill(0);
      this.#seenCount = 0;
    }
    this.#seen[bit] = 1;
    this.#seenCount++;
  }

  #use(set: TagSet<S>): TagSet<S> {
    if (!set.inUse) {
      set.inUse = true;
      this.#used.push(set);
    }
    return set;
  }
}

function seenBit(hash: number): number {
  return (hash ^ (hash >>> 16)) & (SEEN_BITS - 1);
}

/** FNV-1a over a tag name, a separator and its value; a tag set's hash is the sum over its pairs. */
export function pairHash(name: string, text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0xffff, 0x01000193);
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
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

/** The prototype of kept tags objects: it has no properties and inherits none (not even `__proto__`). */
const INHERITS_NOTHING: object = Object.freeze(Object.create(null));

function sortedTags(json: Record<string, unknown>): Tags | undefined {
  const tags: Record<string, string> = Object.create(INHERITS_NOTHING);
  for (const name of sortNames(Object.keys(json))) {
    const value = toTagValue(json[name]);
    if (name === '' || value === undefined || !name.isWellFormed()) return undefined;
    tags[name] = value;
  }
  return tags;
}
