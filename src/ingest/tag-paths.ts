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
  /** How many paths lead to a set. */
  size = 0;

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

  /** Makes a JSON tags object's pairs (all valid), in their order, lead to a set. */
  add(json: Record<string, unknown>, set: TagSet<S>): void {
    let at = this.#root;
    for (const name in json) at = step(at, name, tagText(json[name]) as string);
    if (at.set === undefined) this.size++;
    at.set = set;
  }

  clear(): void {
    this.#root = node();
    this.size = 0;
  }
}

function step<S>(at: PathNode<S>, name: string, text: string): PathNode<S> {
  if (at.name === undefined && at.byName === undefined) {
    at.name = name;
    at.text = text;
    return (at.next = node());
  }
  if (at.name === name && at.text === text) return at.next as PathNode<S>;
  if (at.byName === undefined) {
    at.byName = new Map([[at.name as string, new Map([[at.text as string, at.next as PathNode<S>]])]]);
  }
  let byText = at.byName.get(name);
  if (!byText) at.byName.set(name, (byText = new Map()));
  let next = byText.get(text);
  if (!next) byText.set(text, (next = node()));
  return next;
}
