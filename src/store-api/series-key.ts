import type { TagFilter, Tags } from './contract.js';

const TAGS_TEXT = new WeakMap<Tags, string>();

/**
 * An unambiguous string identity of a tag set, in its key order: `JSON.stringify(Object.entries(tags))`, the text
 * SQLite keeps in `series.tags`. Kept per object for frozen tag sets (the ingest path hands out one for a set sent
 * again); others are spelt each time (~0.6 µs for three tags), which costs less than keeping them in a WeakMap did
 * (~2 µs a set, and the collector's time: a million new series a minute make a million weak entries).
 */
export function tagsKey(tags: Tags): string {
  if (!Object.isFrozen(tags)) return tagsText(tags);
  let text = TAGS_TEXT.get(tags);
  if (text === undefined) TAGS_TEXT.set(tags, (text = tagsText(tags)));
  return text;
}

/** Strings JSON spells as they are between quotes: no quote, backslash, control character or surrogate. */
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** `JSON.stringify(Object.entries(tags))`, without the arrays it builds. */
function tagsText(tags: Tags): string {
  let text = '[';
  for (const name of Object.keys(tags)) text += `${text.length === 1 ? '[' : ',['}${quoted(name)},${quoted(tags[name] as string)}]`;
  return `${text}]`;
}

function quoted(text: string): string {
  return PLAIN.test(text) ? `"${text}"` : JSON.stringify(text);
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
