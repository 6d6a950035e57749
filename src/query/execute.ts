import { httpError } from '../errors.js';
import type { SeriesRead, Store } from '../store-api/contract.js';
import { tagsKey } from '../store-api/series-key.js';
import type { TypeRegistry } from '../types/registry.js';
import { hasBigInt } from '../types/numbers.js';
import { ValueTypeError, type StoredValue } from '../types/value-type.js';
import { chain, pushRun, type ChainContext, type Sink } from './aggregators.js';
import type { QueryBudget } from './budget.js';
import { mergeSeries } from './merge.js';
import { pacedSort } from './paced-sort.js';
import type { GrouperSpec, MetricQuery, QuerySpec, SaveAs } from './spec.js';
import { savesPoints, type SavedPoints } from './save-as.js';
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
  /** Where `save_as` stages keep their points (absent: a query with `save_as` saves nothing). */
  saved?: SavedPoints;
}

/** One entry of `queries`: what a query metric read and answers. */
export interface MetricAnswer {
  sample_size: number;
  results: QueryResult[];
}

/**
 * What a running query produces, in answer order: each result opens with its head, carries its values in slices,
 * and ends; each query metric ends with its sample size (absent for tag queries). Written out as it comes, so an
 * answer of millions of values is never held whole.
 */
export type AnswerEvent =
  /** Opens a result with its first values; `more` says whether `values` events follow before it ends. */
  | { readonly kind: 'result'; readonly head: Omit<QueryResult, 'values'>; readonly values: readonly [number, unknown][]; readonly more: boolean }
  | { readonly kind: 'values'; readonly values: readonly [number, unknown][]; readonly more: boolean }
  | { readonly kind: 'end-query'; readonly sampleSize?: number };

/** Values of one result in one `values` event: the answer is written between turns given to the event loop. */
const SLICE = 4096;

/** Runs a parsed query as answer events. */
export async function* queryEvents(spec: QuerySpec, ctx: QueryContext): AsyncGenerator<AnswerEvent> {
  for (const metric of spec.metrics) yield* runMetric(spec, metric, ctx);
}

/** Runs a parsed query into one answer: `{queries: [{sample_size, results}]}` (for callers that want it whole). */
export async function runQuery(spec: QuerySpec, ctx: QueryContext): Promise<{ queries: MetricAnswer[] }> {
  const queries: MetricAnswer[] = [];
  let results: QueryResult[] = [];
  for await (const event of queryEvents(spec, ctx)) {
    if (event.kind === 'result') results.push({ ...event.head, values: [...event.values] });
    else if (event.kind === 'values') (results.at(-1) as QueryResult).values.push(...event.values);
    else {
      queries.push({ sample_size: event.sampleSize ?? 0, results });
      results = [];
    }
  }
  return { queries };
}

/** The events of an answer held whole (tag queries, tests). */
export async function* eventsOf(answer: { queries: readonly { sample_size?: number; results: readonly QueryResult[] }[] }): AsyncGenerator<AnswerEvent> {
  for (const query of answer.queries) {
    for (const { values, ...head } of query.results) yield* resultEvents(head, values);
    yield query.sample_size === undefined ? { kind: 'end-query' } : { kind: 'end-query', sampleSize: query.sample_size };
  }
}

/** Every series of a query metric, read with the query's pace. */
export async function seriesOf(spec: QuerySpec, metric: MetricQuery, ctx: QueryContext): Promise<SeriesRead[]> {
  const found: SeriesRead[] = [];
  const query = { metric: metric.name, start: spec.start, end: spec.end, tags: metric.tags, order: metric.order };
  const max = ctx.budget.caps.maxSeries ?? Infinity;
  // Refused from the index before a point is read, where the store can count; else as the series come.
  if (max !== Infinity && ctx.store.countSeries && (await ctx.store.countSeries(query, max + 1)) > max) throw httpError('QUERY_TOO_MANY_SERIES', max);
  for await (const series of ctx.store.read(query)) {
    found.push(series);
    if (found.length > max) throw httpError('QUERY_TOO_MANY_SERIES', max);
    if (ctx.budget.due) await ctx.budget.pace();
  }
  return found;
}

/** A tag group's series of one type group; time and value groupers split it further per point. */
interface Bucket {
  typeGroup: string;
  tagGroup: Record<string, string> | undefined;
  series: SeriesRead[];
}

async function* runMetric(spec: QuerySpec, metric: MetricQuery, ctx: QueryContext): AsyncGenerator<AnswerEvent> {
  const buckets = new Map<string, Bucket>();
  const tagGrouper = metric.groupBy.find((g) => g.name === 'tag');
  let counted = 0;
  for (const series of await seriesOf(spec, metric, ctx)) {
    if ((++counted & 1023) === 0 && ctx.budget.due) await ctx.budget.pace();
    const typeGroup = ctx.types.get(series.type)?.group ?? series.type;
    const tagGroup = tagGrouper ? pick(series.tags, tagGrouper.tags) : undefined;
    const key = JSON.stringify([typeGroup, tagGroup ?? null]);
    let bucket = buckets.get(key);
    if (!bucket) buckets.set(key, (bucket = { typeGroup, tagGroup, series: [] }));
    bucket.series.push(series);
  }
  const read = { points: 0, results: 0 };
  for (const key of [...buckets.keys()].sort()) {
    const bucket = buckets.get(key) as Bucket;
    bucket.series = await sortByTags(bucket.series, ctx);
    yield* runBucket(spec, metric, bucket, ctx, read);
  }
  if (read.results === 0) yield { kind: 'result', head: { name: metric.name, tags: {} }, values: [], more: false };
  yield { kind: 'end-query', sampleSize: read.points };
}

interface Group {
  numbers: number[];
  sink: Sink;
  values: [number, unknown][];
}

/**
 * The results of one bucket. Without time, value or bin groupers it has one result, written as its values come;
 * with them, points of a result interleave with others', so its results are held (within the output caps) and
 * written at the end.
 */
async function* runBucket(spec: QuerySpec, metric: MetricQuery, bucket: Bucket, ctx: QueryContext, read: { points: number; results: number }): AsyncGenerator<AnswerEvent> {
  const { budget } = ctx;
  const numeric = bucket.typeGroup === 'number';
  const saves = ctx.saved !== undefined && savesPoints(metric.aggregators);
  const grouped = metric.groupBy.find((g) => g.name === 'tag')?.tags ?? [];
  const chainCtx: ChainContext = { start: spec.start, end: spec.end, zone: spec.timeZone, now: ctx.now };
  if (saves) chainCtx.saving = (a) => (ctx.saved as SavedPoints).into(a.saveAs as SaveAs, metric.name, bucketTags, grouped);
  const splitters = metric.groupBy.filter((g) => g.name === 'time' || ((g.name === 'value' || g.name === 'bin') && numeric));
  const grids = splitters.map((g) => (g.name === 'time' ? new SamplingGrid(spec.start, g.rangeSize, spec.timeZone) : undefined));
  const groups = new Map<string, Group>();
  const streaming = splitters.length === 0;
  const decoders = new Map<string, (value: StoredValue) => unknown>();
  const groupFor = (ts: number, value: StoredValue) => {
    const numbers = splitters.map((g, i) => groupNumber(g, ts, value, grids[i]));
    const key = numbers.join(',');
    let group = groups.get(key);
    if (!group) {
      budget.group();
      const created: Group = { numbers, values: [], sink: undefined as unknown as Sink };
      const collect: Sink = {
        push: (t, v) => {
          budget.output();
          created.values.push([t, v]);
        },
        pushRun: (timestamps, values, from, to) => {
          for (let i = from; i < to; i++) {
            budget.output();
            created.values.push([timestamps[i] as number, values[i] as number]);
          }
        },
        end() {},
      };
      created.sink = chain(numeric ? metric.aggregators : [], chainCtx, collect);
      groups.set(key, (group = created));
    }
    return group;
  };
  const bucketTags = metric.excludeTags && !saves ? {} : await tagsOf(bucket.series, () => (budget.due ? budget.pace() : undefined));
  const tags = metric.excludeTags ? {} : bucketTags;
  // Text points pass no aggregator: each save_as saves them as they are, by their type.
  const textSaves = new Map<string, ((ts: number, value: unknown) => void)[]>();
  const savesOfType = (type: string) => {
    let into = textSaves.get(type);
    if (!into) textSaves.set(type, (into = metric.aggregators.filter((a) => a.saveAs).map((a) => (ctx.saved as SavedPoints).into(a.saveAs as SaveAs, metric.name, bucketTags, grouped, type))));
    return into;
  };
  const headOf = (group: Group): Omit<QueryResult, 'values'> => {
    const groupBy: Record<string, unknown>[] = [];
    let s = 0;
    for (const g of metric.groupBy) {
      if (g.name === 'tag') groupBy.push({ name: 'tag', tags: g.tags, group: bucket.tagGroup ?? {} });
      else if (g.name === 'time' || numeric) groupBy.push(grouperEntry(g, group.numbers[s++] as number));
    }
    groupBy.push({ name: 'type', type: bucket.typeGroup });
    return { name: metric.name, group_by: groupBy, tags };
  };

  let points = 0;
  let open: Group | undefined;
  const take = (ts: number, value: StoredValue, type: string) => {
    points++;
    // Without splitting groupers a bucket has one group: found once, not per point.
    const group = streaming ? (open ??= groupFor(ts, value)) : groupFor(ts, value);
    if (numeric) return group.sink.push(ts, value as number | bigint);
    let decode = decoders.get(type);
    if (!decode) decoders.set(type, (decode = decoder(type, ctx.types)));
    const decoded = decode(value);
    if (saves) for (const save of savesOfType(type)) save(ts, decoded);
    budget.output();
    budget.estimate(typeof decoded === 'string' ? decoded.length + 24 : 64);
    group.values.push([ts, decoded]);
  };
  const limit = metric.limit > 0 ? metric.limit : Infinity;
  let opened = false;
  /** Points taken when the slice of work was last checked. */
  let checked = 0;
  reading: for await (const page of mergeSeries(bucket.series, metric.order, (n) => budget.read(n), () => (budget.due ? budget.pace() : undefined))) {
    const { timestamps, values } = page;
    for (let k = 0; k < timestamps.length; ) {
      if (points >= limit) break reading;
      if (numeric && streaming && open) {
        // The common case in runs: numbers into the bucket's one group, a slice of values at a time (one by one when
        // it holds a long beyond ±(2^53−1): runs are of doubles).
        const to = Math.min(timestamps.length, k + SLICE, k + (limit - points));
        if (hasBigInt(values, k, to)) for (let i = k; i < to; i++) open.sink.push(timestamps[i] as number, values[i] as number | bigint);
        else pushRun(open.sink, timestamps, values as ArrayLike<number>, k, to);
        points += to - k;
        k = to;
      } else {
        take(timestamps[k] as number, values[k] as StoredValue, page.seriesAt(k).type);
        k++;
      }
      if (open && open.values.length >= SLICE) {
        yield opened ? { kind: 'values', values: open.values, more: true } : { kind: 'result', head: headOf(open), values: open.values, more: true };
        opened = true;
        open.values = [];
      }
      if (points - checked >= 1024) {
        checked = points;
        if (budget.due) await budget.pace();
      }
    }
  }
  read.points += points;
  const sorted: (Group | undefined)[] = [...groups.values()].sort(byNumbers);
  groups.clear();
  for (let g = 0; g < sorted.length; g++) {
    // Let go of each group once written: an answer of many groups is not held whole.
    const group = sorted[g] as Group;
    sorted[g] = undefined;
    group.sink.end();
    read.results++;
    if (opened) {
      for (let i = 0; i < group.values.length || i === 0; i += SLICE) {
        yield { kind: 'values', values: group.values.slice(i, i + SLICE), more: i + SLICE < group.values.length };
      }
    } else yield* resultEvents(headOf(group), group.values);
    await budget.pace();
  }
}

/** A result held whole as events: its head with the first slice of values, then the rest slice by slice. */
function* resultEvents(head: Omit<QueryResult, 'values'>, values: readonly [number, unknown][]): Generator<AnswerEvent> {
  const first = values.length <= SLICE ? values : values.slice(0, SLICE);
  yield { kind: 'result', head, values: first, more: values.length > SLICE };
  for (let i = SLICE; i < values.length; i += SLICE) yield { kind: 'values', values: values.slice(i, i + SLICE), more: i + SLICE < values.length };
}

/**
 * Orders series by their tags, so points with equal timestamps merge in the same order whatever the store; with
 * turns for the event loop (100,000 series: ~250 ms of keys and sorting).
 */
async function sortByTags(series: SeriesRead[], ctx: QueryContext): Promise<SeriesRead[]> {
  const pace = () => (ctx.budget.due ? ctx.budget.pace() : undefined);
  const keyed: { s: SeriesRead; key: string }[] = [];
  for (const s of series) {
    keyed.push({ s, key: tagsKey(s.tags) });
    if ((keyed.length & 1023) === 0) await pace();
  }
  const sorted = await pacedSort(keyed, (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0), pace);
  return sorted.map((k) => k.s);
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
  if (g.name === 'bin') return binOf(Number(value), g.bins);
  return Math.trunc(Number(value) / (g as { rangeSize: number }).rangeSize);
}

const byNumbers = ({ numbers: x }: { numbers: number[] }, { numbers: y }: { numbers: number[] }) => {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return 0;
};

/** A series' values of the grouped tags, in the grouper's order; "" for a tag it lacks (KairosDB's getMatchingTags). */
function pick(tags: Readonly<Record<string, string>>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) Object.defineProperty(out, name, { value: Object.hasOwn(tags, name) ? tags[name] : '', enumerable: true });
  return out;
}

/** Per tag name, every value in the series, sorted; `pace` asked every 1,024 series and while sorting (100,000 series: ~170 ms). */
export async function tagsOf(series: readonly SeriesRead[], pace: () => Promise<void> | undefined = () => undefined): Promise<Record<string, string[]>> {
  const values = new Map<string, Set<string>>();
  let counted = 0;
  for (const s of series) {
    for (const [name, value] of Object.entries(s.tags)) {
      let set = values.get(name);
      if (!set) values.set(name, (set = new Set()));
      set.add(value);
    }
    if ((++counted & 1023) === 0) await pace();
  }
  const out: Record<string, string[]> = {};
  for (const name of [...values.keys()].sort()) {
    const sorted = await pacedSort([...(values.get(name) as Set<string>)], (a, b) => (a < b ? -1 : a > b ? 1 : 0), pace);
    Object.defineProperty(out, name, { value: sorted, enumerable: true });
  }
  return out;
}

function decoder(type: string, types: TypeRegistry): (value: StoredValue) => unknown {
  const valueType = types.get(type);
  if (!valueType) return (value) => (value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value);
  if (valueType.storage !== 'bytes') return (value) => valueType.toJSON(valueType.decode(value));
  // A custom type's code: a throw, or a value JSON cannot write (a BigInt, a cycle, undefined), fails the query here,
  // naming the type, rather than midway through writing the answer.
  return (value) => {
    try {
      const json = valueType.toJSON(valueType.decode(value));
      if (JSON.stringify(json) === undefined) throw new TypeError(`toJSON gave ${typeof json}, which JSON cannot write`);
      return json;
    } catch (error) {
      const first = !failedTypes.has(valueType);
      failedTypes.add(valueType);
      throw new ValueTypeError(type, first, error);
    }
  };
}

/** Custom types whose decoding failed once in this process (their later failures are not logged again). */
const failedTypes = new WeakSet<object>();
