import { httpError } from '../../errors.js';
import type { ResolvedOptions } from '../../options.js';
import type { QueryBudget } from '../../query/budget.js';
import { literalAlternatives, matcherTest, type ReadQuery, type ReadSeries } from '../../protocols/remote-read.js';
import type { ValueTest } from '../../protocols/regex.js';
import type { TagFilter } from '../../store-api/contract.js';
import { restrictTags } from '../access.js';

/** Reads one remote-read query from the store: the series its matchers select, numeric samples as doubles. */
export async function readQuery(
  query: ReadQuery,
  options: ResolvedOptions,
  tenant: string | undefined,
  budget: QueryBudget,
  compile: (pattern: string) => ValueTest,
): Promise<ReadSeries[]> {
  const tests = query.matchers.map((m) => ({ name: m.name, test: matcherTest(m, compile) }));
  // `=` and `=~` of literal alternatives select through the store's index (each series is still tested against every matcher).
  const selected = new Map<string, string[]>();
  for (const m of query.matchers) {
    const values = m.type === 0 ? (m.value === '' ? undefined : [m.value]) : m.type === 2 ? literalAlternatives(m.value) : undefined;
    if (!values) continue;
    if (values.length > options.maxQueryTags) throw httpError('QUERY_LIMIT', `${m.name}=~ lists ${values.length} values; at most ${options.maxQueryTags} are taken (maxQueryTags)`);
    const before = selected.get(m.name);
    selected.set(m.name, before ? before.filter((v) => values.includes(v)) : values);
  }
  if ([...selected.values()].some((values) => values.length === 0)) return [];
  const names = selected.get('__name__');
  selected.delete('__name__');
  let metrics: string[];
  if (names) metrics = names;
  else {
    const nameTests = tests.filter((t) => t.name === '__name__');
    metrics = (await options.store.metricNames()).filter((name) => nameTests.every((t) => t.test(name)));
  }
  if (metrics.length > options.maxQueryMetrics) throw httpError('QUERY_LIMIT', `the matchers select ${metrics.length} metrics; at most ${options.maxQueryMetrics} are read (maxQueryMetrics): add __name__="…"`);
  const filter: Record<string, string[]> = Object.create(null);
  for (const [name, values] of selected) filter[name] = values;
  const tags: TagFilter = restrictTags(filter, options.tenantTag, tenant);
  const merged = new Map<string, { labels: [string, string][]; points: Map<number, number> }>();
  for (const metric of metrics) {
    const selection = { metric, start: query.start, end: query.end, tags };
    if (options.store.countSeries && (await options.store.countSeries(selection, options.maxQuerySeries + 1)) > options.maxQuerySeries) {
      throw httpError('QUERY_TOO_MANY_SERIES', options.maxQuerySeries);
    }
    for await (const series of options.store.read(selection)) {
      if (series.storage !== 'long' && series.storage !== 'double') continue;
      const labels: [string, string][] = [['__name__', metric], ...Object.entries(series.tags)];
      labels.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const valueOf = (name: string) => labels.find(([label]) => label === name)?.[1] ?? '';
      await budget.pace();
      if (!tests.every((t) => t.test(valueOf(t.name)))) continue;
      const key = JSON.stringify(labels);
      let entry = merged.get(key);
      if (!entry) merged.set(key, (entry = { labels, points: new Map() }));
      for await (const page of series.points()) {
        budget.read(page.timestamps.length);
        for (let i = 0; i < page.timestamps.length; i++) entry.points.set(page.timestamps[i] as number, Number(page.values[i]));
        await budget.pace();
      }
    }
  }
  return [...merged.values()].map(({ labels, points }) => {
    const timestamps = [...points.keys()].sort((a, b) => a - b);
    return { labels, timestamps, values: timestamps.map((t) => points.get(t) as number) };
  });
}
