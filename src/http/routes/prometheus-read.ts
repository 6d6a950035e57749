import { httpError } from '../../errors.js';
import type { ResolvedOptions } from '../../options.js';
import type { QueryBudget } from '../../query/budget.js';
import { matcherTest, type ReadQuery, type ReadSeries } from '../../protocols/remote-read.js';
import type { TagFilter } from '../../store-api/contract.js';
import { restrictTags } from '../access.js';

/** Reads one remote-read query from the store: the series its matchers select, numeric samples as doubles. */
export async function readQuery(query: ReadQuery, options: ResolvedOptions, tenant: string | undefined, budget: QueryBudget): Promise<ReadSeries[]> {
  const tests = query.matchers.map((m) => {
    const test = matcherTest(m);
    if (typeof test === 'string') throw httpError('QUERY_LIMIT', test);
    return { name: m.name, test };
  });
  const filter: Record<string, string[]> = {};
  let metrics: string[];
  const byName = query.matchers.find((m) => m.name === '__name__' && m.type === 0);
  if (byName) metrics = [byName.value];
  else {
    const names = await options.store.metricNames();
    const nameTests = tests.filter((t) => t.name === '__name__');
    metrics = names.filter((name) => nameTests.every((t) => t.test(name)));
    if (metrics.length > options.maxQueryMetrics) throw httpError('QUERY_LIMIT', `the matchers select ${metrics.length} metrics; at most ${options.maxQueryMetrics} are read (maxQueryMetrics): add __name__="…"`);
  }
  for (const m of query.matchers) if (m.type === 0 && m.name !== '__name__' && m.value !== '') filter[m.name] = [m.value];
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
      if (!tests.every((t) => t.test(valueOf(t.name)))) continue;
      const key = JSON.stringify(labels);
      let entry = merged.get(key);
      if (!entry) merged.set(key, (entry = { labels, points: new Map() }));
      for await (const page of series.points()) {
        budget.read(page.timestamps.length);
        for (let i = 0; i < page.timestamps.length; i++) entry.points.set(page.timestamps[i] as number, page.values[i] as number);
        await budget.pace();
      }
    }
  }
  return [...merged.values()].map(({ labels, points }) => {
    const timestamps = [...points.keys()].sort((a, b) => a - b);
    return { labels, timestamps, values: timestamps.map((t) => points.get(t) as number) };
  });
}
