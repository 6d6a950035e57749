import type { Tags } from '../store-api/contract.js';
import { tagsKey } from '../store-api/series-key.js';

/**
 * One distinct tag set: its sorted tags (frozen once kept between requests), and the series of the request using it now
 * (`S`, cleared when the request ends).
 */
export interface TagSet<S> {
  readonly tags: Tags;
  /** The order-independent hash of its pairs. */
  readonly hash: number;
  /** How many tags. */
  readonly count: number;
  /** Another tag set with the same hash, if any. */
  readonly next: TagSet<S> | undefined;
  /** Whether the current request uses it. */
  inUse: boolean;
  /** The series of the first metric name and type seen with these tags in the current request… */
  first: S | undefined;
  /** …and of any further ones, by metric name (one per value type). */
  others: Map<string, S[]> | undefined;
}

/** Tag sets kept per hash before further ones (crafted collisions) go to an exact map: bounded work per metric. */
const MAX_CHAIN = 8;

/** Tag sets by the order-independent hash of their pairs, confirmed pair by pair. */
export class TagSetIndex<S> {
  readonly #byHash = new Map<number, TagSet<S>>();
  /** Tag sets whose hash chain was full, by their exact sorted key. */
  readonly #exact = new Map<string, TagSet<S>>();
  /** How many tag sets it holds. */
  size = 0;
  /** Characters (tag names and values) of the tag sets it holds. */
  chars = 0;

  /** The tag set with a JSON tags object's hash and pairs (`count` of them), if held in a hash chain. */
  find(hash: number, json: Record<string, unknown>, count: number): TagSet<S> | undefined {
    for (let set = this.#byHash.get(hash); set; set = set.next) if (sameTags(set, json, count)) return set;
    return undefined;
  }

  /**
   * Adds a tag set (of `count` tags and `chars` characters) that `find` did not find; past a full chain, the one
   * already held with the same tags, if any.
   */
  add(hash: number, tags: Tags, count: number, chars: number): TagSet<S> {
    const first = this.#byHash.get(hash);
    let depth = 0;
    for (let set = first; set; set = set.next) depth++;
    if (depth < MAX_CHAIN) {
      const set = this.#create(tags, hash, count, chars, first);
      this.#byHash.set(hash, set);
      return set;
    }
    const key = tagsKey(tags);
    let set = this.#exact.get(key);
    if (!set) this.#exact.set(key, (set = this.#create(tags, hash, count, chars, undefined)));
    return set;
  }

  #create(tags: Tags, hash: number, count: number, chars: number, next: TagSet<S> | undefined): TagSet<S> {
    this.size++;
    this.chars += chars;
    return { tags, hash, count, next, inUse: false, first: undefined, others: undefined };
  }
}

/** A tag value's text for hashing and comparing; strings are validated when a tag set is first made. */
export function tagText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return typeof value === 'boolean' ? String(value) : undefined;
}

/** Whether a JSON tags object (already hashed, so every value has a text) holds exactly the tags of a set. */
function sameTags(set: TagSet<unknown>, json: Record<string, unknown>, count: number): boolean {
  if (set.count !== count) return false;
  for (const name in json) {
    if (set.tags[name] !== tagText(json[name])) return false;
  }
  return true;
}
