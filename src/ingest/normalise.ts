/**
 * The ingest fast path: validates and normalises a parsed body in one pass, without building messages.
 *
 * Rules of the hot path (decode → validate → write), for whoever changes it:
 * - It stays synchronous: one request is normalised at a time, which is what lets `TagSets` reuse its state. A large
 *   body (`normaliseInTurns`) gives the event loop turns, holding the kept tag sets meanwhile (others start empty).
 * - It accepts exactly what the schema (`schema.ts`) accepts: when anything is off it returns `undefined` and the
 *   schema explains; `test/fast-path.test.ts` checks both agree on random bodies (break the fast path and it fails).
 * - Nothing is allocated per point: values go straight into the series' arrays; `Batch.valueType` is an
 *   out-parameter rather than a returned pair. Numbers infer their type with `numberType`, the one rule.
 * - Tag objects of kept tag sets are frozen and shared between requests (tag-sets.ts); never mutate `tags`.
 * Measure before and after a change: `npm run bench -- --quick` (ratios to the bare JSON.parse server), and for
 * the normaliser alone the in-process comparison described in bench/RESULTS.md (session 3).
 */
import { isObject } from '../json.js';
import type { SeriesWrite } from '../store-api/contract.js';
import { builtin } from '../types/builtins.js';
import { isNumericString, numberType } from '../types/numbers.js';
import type { TypeRegistry } from '../types/registry.js';
import type { StoredValue, ValueType } from '../types/value-type.js';
import { toMetricName, toTimestamp, toTtl } from './rules.js';
import { finish, SeriesBuilder } from './series-builder.js';
import { TagSets, type TagSet } from './tag-sets.js';

export { SeriesBuilder } from './series-builder.js';

/** What normalising a request needs besides the body. */
export interface NormaliseContext {
  readonly types: TypeRegistry;
  /** TTL in seconds for metrics without one; 0 keeps points forever. */
  readonly defaultTtl: number;
  /** Tag sets kept between the requests of one middleware; without it, each call starts empty. */
  readonly tagSets?: TagSets<SeriesBuilder>;
}

const { long, double, string } = builtin;
const INVALID = Symbol('invalid');
type Parsed = StoredValue | typeof INVALID;

/** The state of normalising one request. */
class Batch {
  readonly builders: SeriesBuilder[] = [];
  /** The type of the value `readValue` parsed last (an out-parameter, so that nothing is allocated per point). */
  valueType: ValueType = long;

  constructor(
    readonly context: NormaliseContext,
    readonly tagSets: TagSets<SeriesBuilder>,
  ) {}

  /** The series of a metric name, tag set and value type, taking points with the given TTL next. */
  builderFor(name: string, tagSet: TagSet<SeriesBuilder>, type: ValueType, ttl: number, capacity: number): SeriesBuilder {
    const builder = this.find(name, tagSet, type);
    if (!builder) return this.create(name, tagSet, type, ttl, capacity);
    builder.useTtl(ttl);
    return builder;
  }

  private find(name: string, tagSet: TagSet<SeriesBuilder>, type: ValueType): SeriesBuilder | undefined {
    const first = tagSet.first;
    if (first === undefined || (first.metric === name && first.type === type.name)) return first;
    const byType = tagSet.others?.get(name);
    return byType?.find((builder) => builder.type === type.name);
  }

  private create(name: string, tagSet: TagSet<SeriesBuilder>, type: ValueType, ttl: number, capacity: number): SeriesBuilder {
    const builder = new SeriesBuilder(name, tagSet.tags, type.name, type.storage, ttl, capacity);
    if (tagSet.first === undefined) {
      tagSet.first = builder;
    } else {
      tagSet.others ??= new Map();
      const byType = tagSet.others.get(name);
      if (byType) byType.push(builder);
      else tagSet.others.set(name, [builder]);
    }
    this.builders.push(builder);
    return builder;
  }
}

/** Returns the series to write, or `undefined` when anything is invalid (then `explain` says what). */
export function normalise(body: unknown, context: NormaliseContext): SeriesWrite[] | undefined {
  const metrics = metricsOf(body);
  if (!metrics) return undefined;
  const tagSets = tagSetsFor(context);
  const batch = new Batch(context, tagSets);
  try {
    for (let i = 0; i < metrics.length; i++) {
      if (!addMetric(metrics[i], batch)) return undefined;
    }
  } finally {
    tagSets.release();
  }
  return finish(batch.builders);
}

/** Metrics between two asks whether to give the event loop a turn (~1 ms of new series). */
const METRICS_PER_ASK = 256;

/**
 * `normalise` for a large body, in stretches: every {@link METRICS_PER_ASK} metrics it calls `pause`, and awaits the
 * turn it returns, if any. The context's kept tag sets are this body's until it ends: a body normalised meanwhile
 * starts with none (it is correct, only slower for known tag sets).
 */
export async function normaliseInTurns(body: unknown, context: NormaliseContext, pause: () => Promise<void> | undefined): Promise<SeriesWrite[] | undefined> {
  const metrics = metricsOf(body);
  if (!metrics) return undefined;
  const tagSets = tagSetsFor(context);
  const batch = new Batch(context, tagSets);
  tagSets.busy = true;
  try {
    for (let i = 0; i < metrics.length; i++) {
      if (!addMetric(metrics[i], batch)) return undefined;
      if (i % METRICS_PER_ASK === METRICS_PER_ASK - 1) {
        const waiting = pause();
        if (waiting) await waiting;
      }
    }
  } finally {
    tagSets.busy = false;
    tagSets.release();
  }
  return finish(batch.builders);
}

function metricsOf(body: unknown): unknown[] | undefined {
  return Array.isArray(body) ? body : isObject(body) ? [body] : undefined;
}

/** The context's kept tag sets, or new ones while a body normalised in turns holds them. */
function tagSetsFor(context: NormaliseContext): TagSets<SeriesBuilder> {
  const kept = context.tagSets;
  return kept && !kept.busy ? kept : new TagSets<SeriesBuilder>(undefined, kept?.limits);
}

function addMetric(metric: unknown, batch: Batch): boolean {
  if (!isObject(metric)) return false;
  const name = toMetricName(metric.name);
  const tagSet = batch.tagSets.find(metric.tags);
  const ttl = metric.ttl == null ? 0 : toTtl(metric.ttl);
  if (name === undefined || tagSet === undefined || ttl === undefined) return false;
  const effectiveTtl = ttl === 0 ? batch.context.defaultTtl : ttl;

  let metricType: ValueType | undefined;
  if (metric.type != null) {
    if (typeof metric.type !== 'string') return false;
    metricType = batch.context.types.get(metric.type);
    if (!metricType) return false;
  }

  let lastType: ValueType | undefined;
  let lastBuilder: SeriesBuilder | undefined;
  const timestamp = metric.time ?? metric.timestamp;
  const value = metric.value;
  if (timestamp != null) {
    const ts = toTimestamp(timestamp);
    if (ts === undefined || value === undefined) return false;
    const stored = readValue(value, metricType, batch);
    if (stored === INVALID) return false;
    lastType = batch.valueType;
    lastBuilder = batch.builderFor(name, tagSet, batch.valueType, effectiveTtl, 1);
    lastBuilder.add(ts, stored);
  } else if (value != null) {
    return false;
  }

  const points = metric.datapoints;
  if (points == null) return true;
  if (!Array.isArray(points)) return false;
  let k = 0;
  // A metric typed long or double (as the other protocols write theirs) takes the same path with its numbers unchecked for inference.
  const explicit = metricType === long || metricType === double;
  const first: unknown = points[0];
  const leading = metricType === undefined ? numericType(first) : explicit && Array.isArray(first) && first.length === 2 && typeof first[1] === 'number' ? metricType : undefined;
  if (leading) {
    // The common body: plain numeric points from the first on, straight into their series.
    lastType = leading;
    lastBuilder = batch.builderFor(name, tagSet, leading, effectiveTtl, points.length);
    k = lastBuilder.addNumbers(points, 0, explicit);
  }
  for (; k < points.length; k++) {
    const point: unknown = points[k];
    if (!Array.isArray(point) || point.length < 2) return false;
    let ts: unknown = point[0];
    if (typeof ts !== 'number' || !Number.isSafeInteger(ts)) {
      ts = toTimestamp(ts);
      if (ts === undefined) return false;
    }
    let type = metricType;
    if (point.length > 2 && point[2] != null) {
      if (typeof point[2] !== 'string') return false;
      type = batch.context.types.get(point[2]);
      if (!type) return false;
    }
    const stored = readValue(point[1], type, batch);
    if (stored === INVALID) return false;
    const valueType = batch.valueType;
    if (valueType !== lastType) {
      lastType = valueType;
      lastBuilder = batch.builderFor(name, tagSet, valueType, effectiveTtl, points.length - k);
    }
    (lastBuilder as SeriesBuilder).add(ts as number, stored);
    if ((metricType === undefined || valueType === metricType) && (valueType === long || valueType === double)) {
      k = (lastBuilder as SeriesBuilder).addNumbers(points, k + 1, explicit) - 1;
    }
  }
  return true;
}

/** long or double for a `[timestamp, number]` point whose number is one, as `readValue` infers it; else `undefined`. */
function numericType(point: unknown): ValueType | undefined {
  if (!Array.isArray(point) || point.length !== 2 || typeof point[1] !== 'number') return undefined;
  const inferred = numberType(point[1]);
  return inferred === 'long' ? long : inferred === 'double' ? double : undefined;
}

/** Parses one point's value with its explicit type, or inferring long, double or string; sets `batch.valueType`. */
function readValue(json: unknown, type: ValueType | undefined, batch: Batch): Parsed {
  if (type === undefined && typeof json === 'number') {
    const inferred = numberType(json);
    if (inferred === 'long') batch.valueType = long;
    else if (inferred === 'double') batch.valueType = double;
    else return INVALID;
    return json;
  }
  const resolved = type ?? inferType(json);
  if (!resolved) return INVALID;
  batch.valueType = resolved;
  return parseValue(json, resolved);
}

/** The type of a value that is not a number, without an explicit type: long, double or string; `undefined` if none fits (`""`, objects). */
function inferType(value: unknown): ValueType | undefined {
  switch (typeof value) {
    case 'string':
      if (value === '') return undefined;
      if (!isNumericString(value)) return string;
      return value.includes('.') ? double : long;
    case 'boolean':
      return string;
    case 'bigint':
      // An integer beyond ±(2^53−1) from the exact parse (json-exact.ts): a long, as KairosDB infers it.
      return long;
    default:
      return undefined;
  }
}

function parseValue(json: unknown, type: ValueType): Parsed {
  if (json === null || (json === '' && type !== string)) return INVALID;
  if (Array.isArray(json) && json.length === 0) return INVALID;
  const parsed = type.parse(json);
  return parsed === undefined ? INVALID : type.encode(parsed);
}
