import { BigMap, BigSet, stringHash } from './big-map.js';
import type { TagFilter, Tags } from './contract.js';
import { lowerBound } from './lower-bound.js';

/**
 * The series with one tag value: the series itself while there is one (a unique tag such as an id has a million
 * values; a `Set` each would be most of the index's memory), else a set. Series are never sets themselves.
 */
type Posting<T> = T | BigSet<T>;

/** The postings of one metric: its series, and its series by tag name and value (maps and sets of millions: big-map.ts). */
interface MetricPostings<T> {
  readonly all: BigSet<T>;
  readonly byTag: Map<string, BigMap<string, Posting<T>>>;
}

const isSet = <T>(posting: Posting<T>): posting is BigSet<T> => posting instanceof BigSet;
const sizeOf = <T>(posting: Posting<T>): number => (isSet(posting) ? posting.size : 1);
const holds = <T>(posting: Posting<T>, series: T): boolean => (isSet(posting) ? posting.has(series) : posting === series);
function* membersOf<T>(posting: Posting<T>): Generator<T> {
  if (isSet(posting)) yield* posting;
  else yield posting;
}

/**
 * An in-memory series index for stores: postings per (metric, tag name, tag value), so that a selection costs what
 * its smallest posting holds, not what the metric holds; metric names kept sorted, so that a prefix search costs
 * what it returns. Tag filters follow the store contract: every filtered tag must have one of its listed values (a
 * tag listed with no values does not filter).
 */
export class SeriesIndex<T> {
  readonly #metrics = new Map<string, MetricPostings<T>>();
  /** Metric names with at least one series, sorted. */
  readonly #names: string[] = [];

  /** @param hashOf a 32-bit hash of a series, equal for the same series: a random number it was given, not a serial one (see BigMap). */
  constructor(readonly hashOf: (series: T) => number) {}

  add(metric: string, tags: Tags, series: T): void {
    let postings = this.#metrics.get(metric);
    if (!postings) {
      postings = { all: new BigSet(this.hashOf), byTag: new Map() };
      this.#metrics.set(metric, postings);
      this.#names.splice(lowerBound(this.#names, metric), 0, metric);
    }
    postings.all.add(series);
    for (const name in tags) {
      let byValue = postings.byTag.get(name);
      if (!byValue) postings.byTag.set(name, (byValue = new BigMap(stringHash)));
      const value = tags[name] as string;
      const posting = byValue.get(value);
      if (posting === undefined) byValue.set(value, series);
      else if (isSet(posting)) posting.add(series);
      else if (posting !== series) byValue.set(value, new BigSet(this.hashOf, [posting, series]));
    }
  }

  remove(metric: string, tags: Tags, series: T): void {
    const postings = this.#metrics.get(metric);
    if (!postings || !postings.all.delete(series)) return;
    for (const name in tags) {
      const value = tags[name] as string;
      const byValue = postings.byTag.get(name);
      const posting = byValue?.get(value);
      if (!byValue || posting === undefined) continue;
      if (isSet(posting)) {
        posting.delete(series);
        if (posting.size === 1) byValue.set(value, posting.values().next().value as T);
      } else if (posting === series) {
        byValue.delete(value);
      }
      if (byValue.size === 0) postings.byTag.delete(name);
    }
    if (postings.all.size === 0) {
      this.#metrics.delete(metric);
      this.#names.splice(lowerBound(this.#names, metric), 1);
    }
  }

  /** The series of a metric that pass a tag filter, found from the smallest of the filter's postings. */
  *select(metric: string, filter: TagFilter | undefined): Generator<T> {
    const postings = this.#metrics.get(metric);
    if (!postings) return;
    const sets = this.#postingsOf(postings, filter);
    if (sets === undefined) return;
    if (sets.length === 0) {
      yield* postings.all;
      return;
    }
    sets.sort((a, b) => size(a) - size(b));
    const [smallest, ...rest] = sets as [Posting<T>[], ...Posting<T>[][]];
    for (const posting of smallest) {
      for (const series of membersOf(posting)) if (rest.every((union) => union.some((p) => holds(p, series)))) yield series;
    }
  }

  /** How many series `select` would give, counting no further than `atMost`. */
  count(metric: string, filter: TagFilter | undefined, atMost: number): number {
    const postings = this.#metrics.get(metric);
    if (!postings) return 0;
    if (!filter || Object.values(filter).every((values) => !values || values.length === 0)) return Math.min(postings.all.size, atMost);
    let n = 0;
    for (const _ of this.select(metric, filter)) if (++n >= atMost) break;
    return n;
  }

  /** Metric names with a series, sorted, those starting with `prefix` (a binary search, then what matches). */
  names(prefix = ''): string[] {
    const out: string[] = [];
    for (let i = lowerBound(this.#names, prefix); i < this.#names.length && (this.#names[i] as string).startsWith(prefix); i++) out.push(this.#names[i] as string);
    return out;
  }

  /** Metric names starting with `prefix` that have a series with the tag `name` = `value`. */
  namesWithTag(prefix: string, name: string, value: string): string[] {
    return this.names(prefix).filter((metric) => this.#metrics.get(metric)?.byTag.get(name)?.has(value) === true);
  }

  /** Per filtered tag, the postings of its listed values (a union); undefined when one of them is empty (nothing matches). */
  #postingsOf(postings: MetricPostings<T>, filter: TagFilter | undefined): Posting<T>[][] | undefined {
    const sets: Posting<T>[][] = [];
    for (const name of Object.keys(filter ?? {})) {
      const values = (filter as TagFilter)[name];
      if (!values || values.length === 0) continue;
      const byValue = postings.byTag.get(name);
      const union: Posting<T>[] = [];
      for (const value of new Set(values)) {
        const posting = byValue?.get(value);
        if (posting !== undefined) union.push(posting);
      }
      if (union.length === 0) return undefined;
      sets.push(union);
    }
    return sets;
  }
}

function size<T>(union: Posting<T>[]): number {
  let n = 0;
  for (const posting of union) n += sizeOf(posting);
  return n;
}
