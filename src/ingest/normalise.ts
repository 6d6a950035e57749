import type { SeriesWrite, Tags } from '../store/contract.js';
import { builtin } from '../types/builtins.js';
import { isNumericString } from '../types/numbers.js';
import type { TypeRegistry } from '../types/registry.js';
import type { StorageKind, StoredValue, ValueType } from '../types/value-type.js';
import { isObject, toMetricName, toTagValue, toTimestamp, toTtl } from './rules.js';

/** What normalising a request needs besides the body. */
export interface NormaliseContext {
  readonly types: TypeRegistry;
  /** TTL in seconds for metrics without one; 0 keeps points forever. */
  readonly defaultTtl: number;
}

class SeriesBuilder implements SeriesWrite {
  readonly storage: StorageKind;
  timestamps: number[] = [];
  values: StoredValue[] = [];
  /** Per-point TTLs, only once metrics with different TTLs fed this series. */
  ttls: number[] | undefined;
  last = -Infinity;
  unordered = false;

  constructor(
    readonly metric: string,
    readonly tags: Tags,
    readonly type: string,
    storage: StorageKind,
    public ttl: number,
  ) {
    this.storage = storage;
  }

  add(timestamp: number, value: StoredValue, ttl: number): void {
    if (ttl !== this.ttl && this.ttls === undefined) this.ttls = this.timestamps.map(() => this.ttl);
    if (timestamp <= this.last) this.unordered = true;
    else this.last = timestamp;
    this.timestamps.push(timestamp);
    this.values.push(value);
    this.ttls?.push(ttl);
  }
}

const INVALID = Symbol('invalid');
type Parsed = StoredValue | typeof INVALID;

/**
 * The fast path: validates and normalises a parsed body in one pass without building messages.
 * Returns the series to write, or `undefined` when anything is invalid (then `explain` says what).
 */
export function normalise(body: unknown, context: NormaliseContext): SeriesWrite[] | undefined {
  const metrics = Array.isArray(body) ? body : isObject(body) ? [body] : undefined;
  if (!metrics) return undefined;
  const series = new Map<string, SeriesBuilder>();
  for (let i = 0; i < metrics.length; i++) {
    if (!addMetric(metrics[i], context, series)) return undefined;
  }
  return finish(series);
}

function addMetric(metric: unknown, context: NormaliseContext, series: Map<string, SeriesBuilder>): boolean {
  if (!isObject(metric)) return false;
  const name = toMetricName(metric.name);
  const tags = readTags(metric.tags);
  const ttl = metric.ttl == null ? 0 : toTtl(metric.ttl);
  if (name === undefined || tags === undefined || ttl === undefined) return false;
  const effectiveTtl = ttl === 0 ? context.defaultTtl : ttl;

  let metricType: ValueType | undefined;
  if (metric.type != null) {
    if (typeof metric.type !== 'string') return false;
    metricType = context.types.get(metric.type);
    if (!metricType) return false;
  }

  const prefix = `${name.length}:${name}${tags.key}`;
  let lastType: ValueType | undefined;
  let lastSeries: SeriesBuilder | undefined;
  const seriesFor = (type: ValueType): SeriesBuilder => {
    if (type === lastType) return lastSeries as SeriesBuilder;
    const key = prefix + type.name;
    let builder = series.get(key);
    if (!builder) {
      builder = new SeriesBuilder(name, tags.tags, type.name, type.storage, effectiveTtl);
      series.set(key, builder);
    }
    lastType = type;
    lastSeries = builder;
    return builder;
  };

  const timestamp = metric.time ?? metric.timestamp;
  const value = metric.value;
  if (timestamp != null) {
    const ts = toTimestamp(timestamp);
    if (ts === undefined || value === undefined) return false;
    const type = metricType ?? inferType(value);
    if (!type) return false;
    const stored = parseValue(value, type);
    if (stored === INVALID) return false;
    seriesFor(type).add(ts, stored, effectiveTtl);
  } else if (value != null) {
    return false;
  }

  const points = metric.datapoints;
  if (points == null) return true;
  if (!Array.isArray(points)) return false;
  for (let k = 0; k < points.length; k++) {
    const point: unknown = points[k];
    if (!Array.isArray(point) || point.length < 2) return false;
    const ts = toTimestamp(point[0]);
    if (ts === undefined) return false;
    const v: unknown = point[1];
    let type = metricType;
    if (point.length > 2 && point[2] != null) {
      if (typeof point[2] !== 'string') return false;
      type = context.types.get(point[2]);
      if (!type) return false;
    }
    type ??= inferType(v);
    if (!type) return false;
    const stored = parseValue(v, type);
    if (stored === INVALID) return false;
    seriesFor(type).add(ts, stored, effectiveTtl);
  }
  return true;
}

function readTags(json: unknown): { tags: Tags; key: string } | undefined {
  if (!isObject(json)) return undefined;
  const names = Object.keys(json);
  if (names.length === 0) return undefined;
  if (names.length > 1) names.sort();
  const tags: Record<string, string> = Object.create(null);
  let key = '';
  for (const name of names) {
    const value = toTagValue(json[name]);
    if (name === '' || value === undefined || !name.isWellFormed()) return undefined;
    tags[name] = value;
    key += `${name.length}:${name}${value.length}:${value}`;
  }
  return { tags, key };
}

const { long, double, string } = builtin;

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

function finish(series: Map<string, SeriesBuilder>): SeriesWrite[] {
  const out: SeriesWrite[] = [];
  for (const builder of series.values()) {
    if (builder.unordered) dedupe(builder);
    if (builder.ttls) out.push(...splitByTtl(builder));
    else out.push(builder);
  }
  return out;
}

/** Keeps the last occurrence of each timestamp and sorts the points by time. */
function dedupe(builder: SeriesBuilder): void {
  const { timestamps, values, ttls } = builder;
  const lastIndex = new Map<number, number>();
  for (let i = 0; i < timestamps.length; i++) lastIndex.set(timestamps[i] as number, i);
  const kept = [...lastIndex.values()].sort((a, b) => (timestamps[a] as number) - (timestamps[b] as number));
  builder.timestamps = kept.map((i) => timestamps[i] as number);
  builder.values = kept.map((i) => values[i] as StoredValue);
  if (ttls) builder.ttls = kept.map((i) => ttls[i] as number);
}

function splitByTtl(builder: SeriesBuilder): SeriesBuilder[] {
  const parts = new Map<number, SeriesBuilder>();
  const ttls = builder.ttls as number[];
  for (let i = 0; i < ttls.length; i++) {
    const ttl = ttls[i] as number;
    let part = parts.get(ttl);
    if (!part) {
      part = new SeriesBuilder(builder.metric, builder.tags, builder.type, builder.storage, ttl);
      parts.set(ttl, part);
    }
    part.add(builder.timestamps[i] as number, builder.values[i] as StoredValue, ttl);
  }
  return [...parts.values()];
}
