/**
 * The series of one request as normalising builds them, and `finish`, which turns them into what the store gets.
 *
 * Part of the ingest hot path (see normalise.ts for its rules): no per-point objects, arrays allocated once per
 * series for the points its first metric declares, points appended in place; sorting, deduplication and TTL splits
 * happen only for the series that need them. Bench before and after a change: `npm run bench -- --quick`.
 */
import type { SeriesWrite, Tags } from '../store-api/contract.js';
import type { StorageKind, StoredValue } from '../types/value-type.js';

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
   * series' (long or double) — or, for a metric typed `double` (`explicit`), any finite number; returns the index of
   * the first point it did not take (the general path takes it).
   */
  addNumbers(points: unknown[], from: number, explicit = false): number {
    const long = this.type === 'long';
    const anyDouble = explicit && !long;
    const { timestamps, values } = this;
    let { size, last, unordered } = this;
    let k = from;
    for (; k < points.length; k++) {
      const point = points[k];
      if (!Array.isArray(point) || point.length !== 2) break;
      const timestamp: unknown = point[0];
      const value: unknown = point[1];
      if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || typeof value !== 'number') break;
      // numberType(value) === this.type, spelled out: this loop carries (a) and a call here measured slower.
      if (long ? !Number.isSafeInteger(value) : (!anyDouble && Number.isInteger(value)) || !Number.isFinite(value)) break;
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

/** The series to write: the builders themselves, unless a series must be deduplicated or split by TTL. */
export function finish(builders: SeriesBuilder[]): SeriesWrite[] {
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
