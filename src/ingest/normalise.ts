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

const { long, double, string } = builtin;
const INVALID = Symbol('invalid');
type Parsed = StoredValue | typeof INVALID;

/** One distinct tag set of a request, with the series of each metric name and type that use it. */
interface TagSet {
  tags: Tags;
  /** How many tags. */
  count: number;
  /** Another tag set with the same hash, if any. */
  next: TagSet | undefined;
  /** The builders (one per value type) of the first metric name seen with these tags… */
  firstName: string | undefined;
  first: SeriesBuilder[];
  /** …and of any further names. */
  others: Map<string, SeriesBuilder[]> | undefined;
}

/** The state of normalising one request. */
class Batch {
  readonly tagSets = new Map<number, TagSet>();
  /** Tag sets whose hash chain was full (colliding hashes), by their exact sorted key. */
  readonly exactTagSets = new Map<string, TagSet>();
  readonly builders: SeriesBuilder[] = [];

  constructor(readonly context: NormaliseContext) {}

  builderFor(name: string, tagSet: TagSet, type: ValueType, ttl: number): SeriesBuilder {
    let byType: SeriesBuilder[] | undefined;
    if (tagSet.firstName === undefined) tagSet.firstName = name;
    if (tagSet.firstName === name) {
      byType = tagSet.first;
    } else {
      tagSet.others ??= new Map();
      byType = tagSet.others.get(name);
      if (!byType) tagSet.others.set(name, (byType = []));
    }
    for (const builder of byType) if (builder.type === type.name) return builder;
    const builder = new SeriesBuilder(name, tagSet.tags, type.name, type.storage, ttl);
    byType.push(builder);
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
  const batch = new Batch(context);
  for (let i = 0; i < metrics.length; i++) {
    if (!addMetric(metrics[i], batch)) return undefined;
  }
  return finish(batch.builders);
}

function addMetric(metric: unknown, batch: Batch): boolean {
  if (!isObject(metric)) return false;
  const name = toMetricName(metric.name);
  const tagSet = readTags(metric.tags, batch);
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
    lastBuilder = batch.builderFor(name, tagSet, valueType, effectiveTtl);
    lastBuilder.add(ts, stored, effectiveTtl);
  } else if (value != null) {
    return false;
  }

  const points = metric.datapoints;
  if (points == null) return true;
  if (!Array.isArray(points)) return false;
  for (let k = 0; k < points.length; k++) {
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
      lastBuilder = batch.builderFor(name, tagSet, valueType, effectiveTtl);
    }
    (lastBuilder as SeriesBuilder).add(ts as number, stored, effectiveTtl);
  }
  return true;
}

/**
 * Reads a tags object into a TagSet shared by every metric of the request with the same tags.
 * Tag sets are found by an order-independent hash of the pairs and confirmed pair by pair,
 * so the common cases need neither sorting nor key strings.
 */
function readTags(json: unknown, batch: Batch): TagSet | undefined {
  if (!isObject(json)) return undefined;
  let hash = 0;
  let count = 0;
  for (const name in json) {
    const text = tagText(json[name]);
    if (text === undefined) return undefined;
    hash = (hash + pairHash(name, text)) | 0;
    count++;
  }
  if (count === 0) return undefined;
  const first = batch.tagSets.get(hash);
  let depth = 0;
  for (let set = first; set; set = set.next, depth++) if (sameTags(set, json, count)) return set;
  const tags = sortedTags(json);
  if (!tags) return undefined;
  if (depth < MAX_CHAIN) {
    const set: TagSet = { tags, count, next: first, firstName: undefined, first: [], others: undefined };
    batch.tagSets.set(hash, set);
    return set;
  }
  const key = JSON.stringify(Object.entries(tags));
  let set = batch.exactTagSets.get(key);
  if (!set) batch.exactTagSets.set(key, (set = { tags, count, next: undefined, firstName: undefined, first: [], others: undefined }));
  return set;
}

/** Tag sets kept per hash before further ones (crafted collisions) go to an exact map: bounded work per metric. */
const MAX_CHAIN = 8;

function tagText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

/** FNV-1a over a tag name, a separator and its value; a tag set's hash is the sum over its pairs. */
export function pairHash(name: string, text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0xffff, 0x01000193);
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

function sameTags(set: TagSet, json: Record<string, unknown>, count: number): boolean {
  if (set.count !== count) return false;
  for (const name in json) {
    if (!Object.hasOwn(set.tags, name) || set.tags[name] !== tagText(json[name])) return false;
  }
  return true;
}

/** Sorts names by UTF-16 code units, as `Array#sort` does; a few by insertion, without its per-call cost. */
function sortNames(names: string[]): string[] {
  if (names.length > 16) return names.sort();
  for (let i = 1; i < names.length; i++) {
    const name = names[i] as string;
    let j = i - 1;
    while (j >= 0 && (names[j] as string) > name) {
      names[j + 1] = names[j] as string;
      j--;
    }
    names[j + 1] = name;
  }
  return names;
}

function sortedTags(json: Record<string, unknown>): Tags | undefined {
  const tags: Record<string, string> = Object.create(null);
  for (const name of sortNames(Object.keys(json))) {
    const value = toTagValue(json[name]);
    if (name === '' || value === undefined || !name.isWellFormed()) return undefined;
    tags[name] = value;
  }
  return tags;
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
  const out: SeriesWrite[] = [];
  for (const builder of builders) {
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
