/** Cassandra's maximum TTL (20 years) in seconds: the largest `ttl` a request may carry and a store must keep. */
export const MAX_TTL = 630_720_000;

import type { StorageKind, StoredValue } from '../types/value-type.js';

/** Tags of a series: sorted by name, in an object that inherits nothing; read-only (one object may serve many requests). */
export type Tags = Readonly<Record<string, string>>;

/** The points of one series in one request, resolved and ready to store. */
export interface SeriesWrite {
  readonly metric: string;
  readonly tags: Tags;
  /** Canonical value type name. */
  readonly type: string;
  /** How the values are kept (from the value type). */
  readonly storage: StorageKind;
  /** Seconds to keep the points; 0 keeps them forever. */
  readonly ttl: number;
  /** Milliseconds since epoch, unique within the series. */
  readonly timestamps: readonly number[];
  /** Stored values, one per timestamp. */
  readonly values: readonly StoredValue[];
}

/** A tag filter: every named tag must have one of the listed values. */
export type TagFilter = Readonly<Record<string, readonly string[]>>;

/** What a read or delete selects. */
export interface SeriesQuery {
  readonly metric: string;
  /** Inclusive start, ms. @default -Infinity */
  readonly start?: number;
  /** Inclusive end, ms. @default Infinity */
  readonly end?: number;
  readonly tags?: TagFilter;
  /** Order of the points a read yields. @default 'asc' */
  readonly order?: 'asc' | 'desc';
  /** A read also yields each point's expiry (`PointPage.expires`), for export; stores with `capabilities.ttl` keep it. @default false */
  readonly expiry?: boolean;
}

/** A page of points of one series, in the read's time order (arrays, or typed arrays of numbers). */
export interface PointPage {
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<StoredValue>;
  /** When each point expires, ms since epoch (0 never): given by a store with `capabilities.ttl` when the read asked (`expiry: true`). */
  readonly expires?: ArrayLike<number>;
}

/** One series found by a read; its points are fetched when iterated. */
export interface SeriesRead {
  readonly metric: string;
  readonly tags: Tags;
  readonly type: string;
  readonly storage: StorageKind;
  /** The series' points in the query's time range and order (ascending unless asked), page by page. */
  points(): AsyncIterable<PointPage>;
}

/** What a store can do, for callers and the conformance suite. */
export interface StoreCapabilities {
  /** Points expire after their TTL. */
  readonly ttl: boolean;
  /** Data survives a restart of the process. */
  readonly persistent: boolean;
}

/** The contract every store keeps. A failed call rejects; an error with `unavailable: true` means "retry later". */
export interface Store {
  readonly capabilities: StoreCapabilities;
  /** Stores every series of one request; resolves only once all of it is stored. */
  write(series: readonly SeriesWrite[]): Promise<void>;
  /** The series of a metric that match the tag filter and have points in the range. */
  read(query: SeriesQuery): AsyncIterable<SeriesRead>;
  /** Metric names, sorted, optionally only those starting with `prefix`; from an index: the cost follows what it returns. */
  metricNames(prefix?: string): Promise<string[]>;
  /**
   * Optional: the metric names starting with `prefix` that have a series with tag `name` = `value` (a tenant's names),
   * at a cost that follows that tag's metrics rather than every name under the prefix. Without it the mount reads.
   */
  metricNamesWithTag?(prefix: string, name: string, value: string): Promise<string[]>;
  /**
   * Optional: how many series a read of the query's metric and tag filter would consider, counting no further than
   * `atMost`, from the index and without reading points — an upper bound of what the read yields (a store may count
   * series with no point in the time range): the mount refuses a query that selects more than `maxQuerySeries`
   * before it reads. A store with it finds a selection's series through postings
   * per (metric, tag name, tag value): a read selecting 1 series of 100,000 looks at a handful of index entries.
   */
  countSeries?(query: SeriesQuery, atMost: number): Promise<number>;
  /** Optional: how many of a write's series the store does not hold yet (for `maxNewSeriesPerMinute`). */
  countNewSeries?(series: readonly SeriesWrite[]): Promise<number>;
  /** Deletes the selected points; without start, end and tags the whole metric. */
  delete(query: SeriesQuery): Promise<void>;
  /**
   * Optional: a few figures of the store's state by name (`[a-z][a-z0-9_]*`), cheap to read — nothing that costs what
   * the store holds runs on the event loop: the mount's metrics show them as `koa_kairosdb_store_<name>` gauges.
   */
  figures?(): Promise<Readonly<Record<string, number>>>;
  /** Optional: how many series and live points are stored. */
  stats?(): Promise<{ series: number; points: number }>;
  /** Resolves when the store answers (health checks). */
  ping(): Promise<void>;
  /**
   * Optional: connects and checks settings and schema, rejecting with the reason (host, keyspace, …); what a host awaits
   * at start (`await middleware.ready()`). Stores without it are ready once constructed.
   */
  init?(): Promise<void>;
  /** Releases resources; waits for writes in flight. */
  close(): Promise<void>;
  /** Optional: KairosDB's metadata (string values by service, service key and key), apart from the time series. */
  readonly metadata?: MetadataStore;
  /** Optional: small named values every instance sharing the store sets atomically (the roll-up runner's lease and progress). */
  readonly coordination?: Coordination;
}

/**
 * Named string values changed only by compare-and-set, atomic across every process and machine sharing the store (a
 * lightweight transaction on Cassandra, an immediate transaction on SQLite): what lets several app instances agree on
 * who runs a roll-up and how far it got. Nothing expires; names are non-empty strings.
 */
export interface Coordination {
  /** The value, or `undefined` when there is none (as of the latest compare-and-set). */
  get(name: string): Promise<string | undefined>;
  /**
   * Sets the value to `next` (`undefined` removes it) only when it is `expected` (`undefined`: there is none);
   * resolves true when it did, false when the value was another.
   */
  compareAndSet(name: string, expected: string | undefined, next: string | undefined): Promise<boolean>;
}

/**
 * KairosDB's metadata: a value (a string) under a service, a service key and a key. Lists are sorted; a service
 * key is listed while it holds a key. Names are non-empty strings; nothing expires.
 */
export interface MetadataStore {
  /** Writes (or replaces) a value. */
  set(service: string, serviceKey: string, key: string, value: string): Promise<void>;
  /** The value, or `undefined` when there is none. */
  get(service: string, serviceKey: string, key: string): Promise<string | undefined>;
  /** The service keys of a service. */
  serviceKeys(service: string): Promise<string[]>;
  /** The keys of a service key. */
  keys(service: string, serviceKey: string): Promise<string[]>;
  /** Removes a value; removing one that is not there does nothing. */
  delete(service: string, serviceKey: string, key: string): Promise<void>;
  /**
   * Optional: how many keys a service holds across its service keys, counting no further than `atMost` (so the cost
   * is bounded). The mount uses it to cap a service's keys (`maxMetadataKeys`); a store without it is listed instead.
   */
  count?(service: string, atMost: number): Promise<number>;
}
