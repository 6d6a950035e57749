import type { TagFilter, Tags } from './contract.js';

const TAGS_TEXT = new WeakMap<Tags, string>();

/**
 * An unambiguous string identity of a tag set, in its key order (the same text SQLite keeps in `series.tags`); kept
 * per tag-set object, since tag sets are read-only and the ingest path hands out one object for a set sent again.
 */
export function tagsKey(tags: Tags): string {
  let text = TAGS_TEXT.get(tags);
  if (text === undefined) TAGS_TEXT.set(tags, (text = JSON.stringify(Object.entries(tags))));
  return text;
}

/** An unambiguous string identity of (metric, type, tags): type names hold no NUL, and the tags' JSON no raw one. */
export function seriesKey(metric: string, type: string, tags: Tags): string {
  return `${type}\u0000${metric}\u0000${tagsKey(tags)}`;
}

/** The inclusive time range of a query, open ends as the safe-integer bounds. */
export function rangeOf(query: { start?: number | undefined; end?: number | undefined }): { start: number; end: number } {
  return { start: query.start ?? Number.MIN_SAFE_INTEGER, end: query.end ?? Number.MAX_SAFE_INTEGER };
}

/** Whether a series' tags pass a filter (every filtered tag has one of its listed values). */
export function matchesTags(tags: Tags, filter: TagFilter | undefined): boolean {
  if (!filter) return true;
  for (const name of Object.keys(filter)) {
    const wanted = filter[name];
    if (!wanted || wanted.length === 0) continue;
    if (!Object.hasOwn(tags, name) || !wanted.includes(tags[name] as string)) return false;
  }
  return true;
}

/** Tags from name/value pairs: sorted by name, in an object without a prototype. */
export function tagsFrom(pairs: Iterable<readonly [string, string]>): Tags {
  const sorted = [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const tags: Record<string, string> = Object.create(null);
  for (const [name, value] of sorted) tags[name] = value;
  return tags;
}
