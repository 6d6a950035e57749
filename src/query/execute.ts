import type { SeriesRead, Store } from '../store-api/contract.js';
import { tagsKey } from '../store-api/series-key.js';
import type { TypeRegistry } from '../types/registry.js';
import type { StoredValue } from '../types/value-type.js';
import { chain, type ChainContext, type Sink } from './aggregators.js';
import type { QueryBudget } from './budget.js';
import { mergeSeries } from './merge.js';
import type { GrouperSpec, MetricQuery, QuerySpec } from './spec.js';
import { SamplingGrid } from './time.js';

/** One result of a query metric, as KairosDB shapes it. */
export interface QueryResult {
  name: string;
  /** Absent on the empty result of a metric without data (KairosDB 1.3; the Java client throws on one without a type). */
  group_by?: Record<string, unknown>[];
  tags: Record<string, string[]>;
  values: [number, unknown][];
}

/** What running queries needs. */
export interface QueryContext {
  store: Store;
  types: TypeRegistry;
  now: number;
  /** The query's caps, deadline and event-loop turns. */
  budget: QueryBudget;
}

/** One entry of `queries`: what a query metric read and answers. */
export interface MetricAnswer {
  sample_size: number;
  results: QueryResult[];
}

/** Runs a parsed query: `{queries: [{sample_size, results}]}`. */
export async function runQuery(spec: QuerySpec, ctx: QueryContext): Promise<{ queries: MetricAnswer[] }> {
  const queries = [];
  for (const metric of spec.metrics) queries.push(await runMetric(spec, metric, ctx));
  return { queries };
}

/** Every series of a query metric, read with the query's pace. */
export async function seriesOf(spec: QuerySpec, metric: MetricQuery, ctx: QueryContext): Promise<SeriesRead[]> {
  const found: SeriesRead[] = [];
  for await (const series of ctx.store.read({ metric: metric.name, start: spec.start, end: spec.end, tags: metric.tags, order: metric.order })) {
    found.push(series);
    if ((found.length & 255) === 0) await ctx.budget.pace();
  }
  return found;
}

/** A tag group's series of one type group; time and value groupers split it further per point. */
interface Bucket {
  typeGroup: string;
  tagGroup: Record<string, string> | undefined;
  series: SeriesRead[];
}

async function runMetric(spec: QuerySpec, metric: MetricQuery, ctx: QueryContext): Promise<MetricAnswer> {
  const buckets = new Map<string, Bucket>();
  const tagGrouper = metric.groupBy.find((g) => g.name === 'tag');
  for (const series of await seriesOf(spec, metric, ctx)) {
    const typeGroup = ctx.types.get(series.type)?.group ?? series.type;
    const tagGroup = tagGrouper ? pick(series.tags, tagGrouper.tags) : undefined;
    const key = JSON.stringify([typeGroup, tagGroup ?? null]);
    let bucket = buckets.get(key);
    if (!bucket) buckets.set(key, (bucket = { typeGroup, tagGroup, series: [] }));
    bucket.series.push(series);
  }
  let sampleSize = 0;
  const results: QueryResult[] = [];
  for (const key of [...buckets.keys()].sort()) {
    const bucket = buckets.get(key) as Bucket;
    bucket.series = sortByTags(bucket.series);
    const read = await runBucket(spec, metric, bucket, ctx);
    sampleSize += read.points;
    for (const result of read.results) results.push(result);
  }
  if (results.length === 0) results.push({ name: metric.name, tags: {}, values: [] });
  return { sample_size: sampleSize, results };
}

async function runBucket(spec: QuerySpec, metric: MetricQuery, bucket: Bucket, ctx: QueryContext) {
  const { budget } = ctx;
  const numeric = bucket.typeGroup === 'number';
  const chainCtx: ChainContext = { start: spec.start, end: spec.end, zone: spec.timeZone, now: ctx.now };
  const splitters = metric.groupBy.filter((g) => g.name === 'time' || ((g.name === 'value' || g.name === 'bin') && numeric));
  const grids = splitters.map((g) => (g.name === 'time' ? new SamplingGrid(spec.start, g.rangeSize, spec.timeZone) : undefined));
  const groups = new Map<string, { numbers: number[]; sink: Sink; values: [number, unknown][] }>();
  const decoders = new Map<string, (value: StoredValue) => unknown>();
  const groupFor = (ts: number, value: StoredValue) => {
    const numbers = splitters.map((g, i) => groupNumber(g, ts, value, grids[i]));
    const key = numbers.join(',');
    let group = groups.get(key);
    if (!group) {
      budget.group();
      const values: [number, unknown][] = [];
      const collect: Sink = {
        push: (t, v) => {
          budget.output();
          values.push([t, v]);
        },
        end() {},
      };
      group = { numbers, values, sink: chain(numeric ? metric.aggregators : [], chainCtx, collect) };
      groups.set(key, group);
    }
    return group;
  };

  let points = 0;
  const take = (ts: number, value: StoredValue, type: string) => {
    points++;
    const group = groupFor(ts, value);
    if (numeric) return group.sink.push(ts, value as number);
    let decode = decoders.get(type);
    if (!decode) decoders.set(type, (decode = decoder(type, ctx.types)));
    const decoded = decode(value);
    budget.output();
    budget.estimate(typeof decoded === 'string' ? decoded.length + 24 : 64);
    group.values.push([ts, decoded]);
  };
  const limit = metric.limit > 0 ? metric.limit : Infinity;
  for await (const p of mergeSeries(bucket.series, metric.order, (n) => budget.read(n))) {
    if (points >= limit) break;
    take(p.ts, p.value, p.series.type);
    if ((points & 1023) === 0 && budget.due) await budget.pace();
  }

  const tags = metric.excludeTags ? {} : tagsOf(bucket.series);
  const results: QueryResult[] = [];
  for (const group of [...groups.values()].sort(byNumbers)) {
    group.sink.end();
    await budget.pace();
    const groupBy: Record<string, unknown>[] = [];
    let s = 0;
    for (const g of metric.groupBy) {
      if (g.name === 'tag') groupBy.push({ name: 'tag', tags: g.tags, group: bucket.tagGroup ?? {} });
      else if (g.name === 'time' || numeric) groupBy.push(grouperEntry(g, group.numbers[s++] as number));
    }
    groupBy.push({ name: 'type', type: bucket.typeGroup });
    results.push({ name: metric.name, group_by: groupBy, tags, values: group.values });
  }
  return { points, results };
}

/** Orders series by their tags, so points with equal timestamps merge in the same order whatever the store. */
function sortByTags(series: SeriesRead[]): SeriesRead[] {
  const keyed = series.map((s) => ({ s, key: tagsKey(s.tags) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.s);
}

function grouperEntry(g: GrouperSpec, groupNumber: number): Record<string, unknown> {
  if (g.name === 'time') {
    return { name: 'time', range_size: { value: g.rangeSize.value, unit: g.rangeSize.unit }, group_count: g.groupCount, group: { group_number: groupNumber } };
  }
  if (g.name === 'bin') return { name: 'bin', bins: g.bins, group: { bin_number: groupNumber } };
  return { name: 'value', range_size: (g as { rangeSize: number }).rangeSize, group: { group_number: groupNumber } };
}

/**
 * KairosDB's bin: 0 below the first bound, i + 1 in [bins[i], bins[i + 1]), bins.length from the last bound on — the
 * number of bounds at or below the value (bins are ascending, checked when parsed), found by binary search.
 */
function binOf(value: number, bins: readonly number[]): number {
  let low = 0;
  let high = bins.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((bins[mid] as number) <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** A point's group: a time grouper's range (calendar months and years in the query's zone) modulo its count, or a value bucket. */
function groupNumber(g: GrouperSpec, ts: number, value: StoredValue, grid: SamplingGrid | undefined): number {
  if (g.name === 'time') return (grid as SamplingGrid).indexOf(ts) % g.groupCount;
  if (g.name === 'bin') return binOf(value as number, g.bins);
  return Math.trunc((value as number) / (g as { rangeSize: number }).rangeSize);
}

const byNumbers = ({ numbers: x }: { numbers: number[] }, { numbers: y }: { numbers: number[] }) => {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return 0;
};

function pick(tags: Readonly<Record<string, string>>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) if (Object.hasOwn(tags, name)) Object.defineProperty(out, name, { value: tags[name], enumerable: true });
  return out;
}

/** Per tag name, every value in the series, sorted. */
export function tagsOf(series: readonly SeriesRead[]): Record<string, string[]> {
  const values = new Map<string, Set<string>>();
  for (const s of series) {
    for (const [name, value] of Object.entries(s.tags)) {
      let set = values.get(name);
      if (!set) values.set(name, (set = new Set()));
      set.add(value);
    }
  }
  const out: Record<string, string[]> = {};
  for (const name of [...values.keys()].sort()) {
    Object.defineProperty(out, name, { value: [...(values.get(name) as Set<string>)].sort(), enumerable: true });
  }
  return out;
}

function decoder(type: string, types: TypeRegistry): (value: StoredValue) => unknown {
  const valueType = types.get(type);
  if (!valueType) return (value) => (value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value);
  return (value) => valueType.toJSON(valueType.decode(value));
}
