import { tagText, type TagSet } from './tag-set-index.js';

/**
 * One step of a path of tag pairs in the order a JSON object lists them. A node with one next pair holds it in
 * `name`/`text`/`next`; with more, they are in `byName` (name → text → node).
 */
interface PathNode<S> {
  name: string | undefined;
  text: string | undefined;
  next: PathNode<S> | undefined;
  byName: Map<string, Map<string, PathNode<S>>> | undefined;
  /** The tag set whose pairs, in this order, lead here. */
  set: TagSet<S> | undefined;
}

function node<S>(): PathNode<S> {
  return { name: undefined, text: undefined, next: undefined, byName: undefined, set: undefined };
}

/**
 * Kept tag sets by the exact sequence of their pairs as JSON objects list them: a set sent again in the same
 * order is found with string comparisons and V8's own string hashes, without hashing or sorting in JS.
 */
export class TagPaths<S> {
  #root = node<S>();
  /** How many nodes the paths have (one per pair; shared prefixes once). */
  nodes = 0;

  /** The set a JSON tags object's pairs lead to, in their order, if one was added. */
  find(json: Record<string, unknown>): TagSet<S> | undefined {
    let at: PathNode<S> | undefined = this.#root;
    for (const name in json) {
      const text = tagText(json[name]);
      if (text === undefined) return undefined;
      at = at.name === name && at.text === text ? at.next : at.byName?.get(name)?.get(text);
      if (at === undefined) return undefined;
    }
    return at.set;
  }

  /** Makes a JSON tags object's pairs, in their order, lead to a set with those tags (its strings are kept, not the JSON's). */
  add(json: Record<string, unknown>, set: TagSet<S>): void {
    let at = this.#root;
    for (const name in json) at = this.#step(at, name, set.tags[name] as string);
    at.set = set;
  }

  clear(): void {
    this.#root = node();
    this.nodes = 0;
  }

  #step(at: PathNode<S>, name: string, text: string): PathNode<S> {
    if (at.name === undefined) {
      at.name = name;
      at.text = text;
      return (at.next = this.#node());
    }
    if (at.name === name && at.text === text) return at.next as PathNode<S>;
    at.byName ??= new Map([[at.name, new Map([[at.text as string, at.next as PathNode<S>]])]]);
    let byText = at.byName.get(name);
    if (!byText) at.byName.set(name, (byText = new Map()));
    let next = byText.get(text);
    if (!next) byText.set(text, (next = this.#node()));
    return next;
  }

  #node(): PathNode<S> {
    this.nodes++;
    return node();
  }
}
