/**
 * A bounded map that forgets the least recently used keys first, in two generations (as quick-lru does): keys are
 * set in the current map; when it holds `capacity` keys it becomes the old one and the older is dropped; a key
 * found only in the old map moves to the current one. It remembers at least the `capacity` keys used last, and
 * holds fewer than twice as many. Every call is O(1): a Map-ordered LRU (delete and set on
 * each use, the oldest taken with `keys().next()`) scanned the deleted slots at the front of V8's table on every
 * eviction — ~9 s of CPU for a request of 10,000 new series once 100,000 index rows were remembered.
 */
export class Lru<V> {
  #current = new Map<string, V>();
  #old = new Map<string, V>();
  constructor(readonly capacity: number) {}

  get(key: string): V | undefined {
    const value = this.#current.get(key);
    if (value !== undefined) return value;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.#put(key, old);
    }
    return old;
  }

  set(key: string, value: V): void {
    if (this.#current.has(key)) this.#current.set(key, value);
    else {
      this.#old.delete(key);
      this.#put(key, value);
    }
  }

  clear(): void {
    this.#current.clear();
    this.#old.clear();
  }

  #put(key: string, value: V): void {
    this.#current.set(key, value);
    if (this.#current.size >= this.capacity) {
      this.#old = this.#current;
      this.#current = new Map();
    }
  }
}
