import type { TagFilter, Tags } from './contract.js';

/** An unambiguous string identity of (metric, type, tags). */
export function seriesKey(metric: string, type: string, tags: Tags): string {
  return JSON.stringify([metric, type, Object.entries(tags)]);
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
