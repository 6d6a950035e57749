/**
 * Maps and sets that may hold millions of entries without stalling the event loop. A `Map` doubles its table as it
 * grows and copies every entry into the new one in a single step: at 1,048,576 entries that step took 186 ms on the
 * project's 2-core machine. These start as one `Map` and, past {@link SPLIT_AT} entries, spread over {@link SHARDS}
 * maps chosen by the key's hash, so that no step copies more than a shard. Iteration order is insertion order only
 * until the split.
 */

/** Entries of one map before it splits (copying them takes a few ms). */
const SPLIT_AT = 32_768;
/** Maps after the split (the top 8 bits of a mixed hash): a million entries are 4,096 a shard. */
const SHARDS = 256;

export class BigMap<K, V> {
  #one: Map<K, V> | undefined;
  #shards: Map<K, V>[] | undefined;
  #size = 0;

  /**
   * @param hashOf a 32-bit hash of a key, equal for equal keys (see {@link stringHash}); random rather than even
   * (not a serial number): shards of equal sizes would all grow in the same step.
   * @param sharded start in shards, for a map known to grow large: no split (its copy of {@link SPLIT_AT} entries,
   * ~20 ms at once) ever comes.
   */
  constructor(
    readonly hashOf: (key: K) => number,
    readonly sharded = false,
  ) {
    this.clear();
  }

  get size(): number {
    return this.#size;
  }

  get(key: K): V | undefined {
    return this.#mapOf(key).get(key);
  }

  has(key: K): boolean {
    return this.#mapOf(key).has(key);
  }

  set(key: K, value: V): this {
    const map = this.#mapOf(key);
    const before = map.size;
    map.set(key, value);
    if (map.size > before && ++this.#size > SPLIT_AT && this.#one) this.#split(this.#one);
    return this;
  }

  delete(key: K): boolean {
    const deleted = this.#mapOf(key).delete(key);
    if (deleted) this.#size--;
    return deleted;
  }

  clear(): void {
    this.#one = this.sharded ? undefined : new Map();
    this.#shards = this.sharded ? Array.from({ length: SHARDS }, () => new Map<K, V>()) : undefined;
    this.#size = 0;
  }

  *entries(): Generator<[K, V]> {
    if (this.#one) yield* this.#one;
    else for (const shard of this.#shards as Map<K, V>[]) yield* shard;
  }

  *keys(): Generator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): Generator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  #mapOf(key: K): Map<K, V> {
    return this.#one ?? ((this.#shards as Map<K, V>[])[shardOf(this.hashOf(key))] as Map<K, V>);
  }

  #split(one: Map<K, V>): void {
    const shards = Array.from({ length: SHARDS }, () => new Map<K, V>());
    for (const [key, value] of one) (shards[shardOf(this.hashOf(key))] as Map<K, V>).set(key, value);
    this.#shards = shards;
    this.#one = undefined;
  }
}

/** A shard from the top bits of a hash mixed as MurmurHash3 finishes (FNV's low bits follow its input's too closely). */
function shardOf(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 24;
}

/** A set over {@link BigMap}. */
export class BigSet<T> {
  readonly #map: BigMap<T, true>;

  constructor(hashOf: (item: T) => number, items: Iterable<T> = []) {
    this.#map = new BigMap(hashOf);
    for (const item of items) this.#map.set(item, true);
  }

  get size(): number {
    return this.#map.size;
  }

  has(item: T): boolean {
    return this.#map.has(item);
  }

  add(item: T): this {
    this.#map.set(item, true);
    return this;
  }

  delete(item: T): boolean {
    return this.#map.delete(item);
  }

  values(): Generator<T> {
    return this.#map.keys();
  }

  [Symbol.iterator](): Generator<T> {
    return this.#map.keys();
  }
}

/** Seeds {@link stringHash} per process, so that keys crafted to fall into one shard here fall apart elsewhere. */
const SEED = (Math.random() * 0x1_0000_0000) >>> 0;

/** FNV-1a over a string's UTF-16 code units, from a per-process seed. */
export function stringHash(text: string): number {
  let h = 0x811c9dc5 ^ SEED;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}
