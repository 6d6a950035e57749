import type { SeriesWrite, Tags } from '../store/contract.js';
import { builtin } from '../types/builtins.js';
import { isNumericString } from '../types/numbers.js';
import type { TypeRegistry } from '../types/registry.js';
import type { StorageKind, StoredValue, ValueType } from '../types/value-type.js';
import { isObject, toMetricName, toTimestamp, toTtl } from './rules.js';
import { TagSets, type TagSet } from './tag-sets.js';

/** What normalising a request needs besides the body. */
export interface NormaliseContext {
  readonly types: TypeRegistry;
  /** TTL in seconds for metrics without one; 0 keeps points forever. */
  readonly defaultTtl: number;
  /** Tag sets kept between the requests of one middleware; without it, each call starts empty. */
  readonly tagSets?: TagSets<SeriesBuilder>;
}

/** The points of one series as a request adds them. */
export class SeriesBuilder implements SeriesWrite {
  readonly storage: StorageKind;
  timestamps: number[];
  values: StoredValue[];
  /** Points added; the arrays may be longer (allocated for the points a metric declares) until `trim`. */
  size = 0;
  /** Where the TTL changed, as (first point, TTL) pairs: only once metrics with different TTLs fed this series. */
  ttlChanges: number[] | undefined;
  /** The TTL of the points being added. */
  currentTtl: number;
  last = -Infinity;
  unordered = false;

  constructor(
    readonly metric: string,
    readonly tags: Tags,
    readonly type: string,
    storage: StorageKind,
    public ttl: number,
    capacity: number,
  ) {
    this.storage = storage;
    this.currentTtl = ttl;
    // Allocated once for the points the first metric declares (growing them by stores is slower, even for ten).
    this.timestamps = new Array(capacity);
    this.values = new Array(capacity);
  }

  /** Sets the TTL of the points added next (a metric's TTL, once per metric). */
  useTtl(ttl: number): void {
    if (ttl === this.currentTtl) return;
    (this.ttlChanges ??= [0, this.ttl]).push(this.size, ttl);
    this.currentTtl = ttl;
  }

  add(timestamp: number, value: StoredValue): void {
    if (timestamp <= this.last) this.unordered = true;
    else this.last = timestamp;
    this.timestamps[this.size] = timestamp;
    this.values[this.size] = value;
    this.size++;
  }

  /**
   * Adds `points[from…]` while each is a plain `[safe-integer timestamp, number]` whose inferred type is this
   * series' (long or double); returns the index of the first point it did not take (the general path takes it).
   */
  addNumbers(points: unknown[], from: number): number {
    const long = this.type === 'long';
    const { timestamps, values } = this;
    let { size, last, unordered } = this;
    let k = from;
    for (; k < points.length; k++) {
      const point = points[k];
      if (!Array.isArray(point) || point.length !== 2) break;
      const timestamp: unknown = point[0];
      const value: unknown = point[1];
      if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || typeof value !== 'number') break;
      if (long ? !Number.isSafeInteger(value) : Number.isInteger(value) || !Number.isFinite(value)) break;
      if (timestamp <= last) unordered = true;
      else last = timestamp;
      timestamps[size] = timestamp;
      values[size] = value;
      size++;
    }
    this.size = size;
    this.last = last;
    this.unordered = unordered;
    return k;
  }

  /** The TTL of every point, if they differ. */
  pointTtls(): number[] | undefined {
    const changes = this.ttlChanges;
    if (!changes) return undefined;
    const ttls = new Array<number>(this.size);
    for (let c = 0; c < changes.length; c += 2) {
      const end = c + 2 < changes.length ? (changes[c + 2] as number) : this.size;
      ttls.fill(changes[c + 1] as number, changes[c] as number, end);
    }
    return ttls;
  }

  /** Drops the unused end of the arrays. */
  trim(): void {
    if (this.timestamps.length !== this.size) {
      this.timestamps.length = this.size;
      this.values.length = this.size;
    }
  }
}

const { long, double, string } = builtin;
const INVALID = Symbol('invalid');
type Parsed = StoredValue | typeof INVALID;

/** The state of normalising one request. */
class Batch {
  readonly builders: SeriesBuilder[] = [];

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

/**
 * The fast path: validates and normalises a parsed body in one pass without building messages.
 * Returns the series to write, or `undefined` when anything is invalid (then `explain` says what).
 */
export function normalise(body: unknown, context: NormaliseContext): SeriesWrite[] | undefined {
  const metrics = Array.isArray(body) ? body : isObject(body) ? [body] : undefined;
  if (!metrics) return undefined;
  const tagSets = context.tagSets ?? new TagSets<SeriesBuilder>();
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
    const stored = readValue(value, metricType);
    if (stored === INVALID) return false;
    lastType = valueType;
    lastBuilder = batch.builderFor(name, tagSet, valueType, effectiveTtl, 1);
    lastBuilder.add(ts, stored);
  } else if (value != null) {
    return false;
  }

  const points = metric.datapoints;
  if (points == null) return true;
  if (!Array.isArray(points)) return false;
  let k = 0;
  const leading = metricType === undefined ? numericType(points[0]) : undefined;
  if (leading) {
    // The common body: plain numeric points from the first on, straight into their series.
    lastType = leading;
    lastBuilder = batch.builderFor(name, tagSet, leading, effectiveTtl, points.length);
    k = lastBuilder.addNumbers(points, 0);
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
    const stored = readValue(point[1], type);
    if (stored === INVALID) return false;
    if (valueType !== lastType) {
      lastType = valueType;
      lastBuilder = batch.builderFor(name, tagSet, valueType, effectiveTtl, points.length - k);
    }
    (lastBuilder as SeriesBuilder).add(ts as number, stored);
    if (metricType === undefined && (valueType === long || valueType === double)) {
      k = (lastBuilder as SeriesBuilder).addNumbers(points, k + 1) - 1;
    }
  }
  return true;
}

/** long or double for a `[timestamp, number]` point whose number is one, as `readValue` infers it; else `undefined`. */
function numericType(point: unknown): ValueType | undefined {
  if (!Array.isArray(point) || point.length !== 2 || typeof point[1] !== 'number') return undefined;
  const value: number = point[1];
  if (Number.isSafeInteger(value)) return long;
  return Number.isFinite(value) && !Number.isInteger(value) ? double : undefined;
}

/** The type of the value `readValue` parsed last (an out-parameter, to allocate nothing per point). */
let valueType: ValueType = long;

/** Parses one point's value with its explicit type, or inferring long, double or string; sets `valueType`. */
function readValue(json: unknown, type: ValueType | undefined): Parsed {
  if (type === undefined && typeof json === 'number') {
    if (Number.isSafeInteger(json)) valueType = long;
    else if (Number.isFinite(json) && !Number.isInteger(json)) valueType = double;
    else return INVALID;
    return json;
  }
  const resolved = type ?? inferType(json);
  if (!resolved) return INVALID;
  valueType = resolved;
  return parseValue(json, resolved);
}

/** The type of a value without an explicit type: long, double or string; `undefined` if none fits (`""`, objects). */
function inferType(value: unknown): ValueType | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) ? long : double;
    case 'string':
      if (value === '') return undefined;
      if (!isNumericString(value)) return string;
      return value.includes('.') ? double : long;
    case 'boolean':
      return string;
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

function finish(builders: SeriesBuilder[]): SeriesWrite[] {
  let out: SeriesWrite[] | undefined;
  for (let i = 0; i < builders.length; i++) {
    const builder = builders[i] as SeriesBuilder;
    builder.trim();
    let ttls = builder.pointTtls();
    if (builder.unordered) ttls = dedupe(builder, ttls);
    if (ttls) {
      out ??= builders.slice(0, i);
      for (const part of splitByTtl(builder, ttls)) out.push(part);
    }
    else out?.push(builder);
  }
  return out ?? builders;
}

/** Keeps the last occurrence of each timestamp and sorts the points by time; returns the kept points' TTLs. */
function dedupe(builder: SeriesBuilder, ttls: number[] | undefined): number[] | undefined {
  const { timestamps, values } = builder;
  const lastIndex = new Map<number, number>();
  for (let i = 0; i < timestamps.length; i++) lastIndex.set(timestamps[i] as number, i);
  const kept = [...lastIndex.values()].sort((a, b) => (timestamps[a] as number) - (timestamps[b] as number));
  builder.timestamps = kept.map((i) => timestamps[i] as number);
  builder.values = kept.map((i) => values[i] as StoredValue);
  return ttls && kept.map((i) => ttls[i] as number);
}

function splitByTtl(builder: SeriesBuilder, ttls: number[]): SeriesBuilder[] {
  const parts = new Map<number, SeriesBuilder>();
  for (let i = 0; i < ttls.length; i++) {
    const ttl = ttls[i] as number;
    let part = parts.get(ttl);
    if (!part) {
      part = new SeriesBuilder(builder.metric, builder.tags, builder.type, builder.storage, ttl, 0);
      parts.set(ttl, part);
    }
    part.add(builder.timestamps[i] as number, builder.values[i] as StoredValue);
  }
  return [...parts.values()];
}
