import { silentLogger, type Logger } from '../../logger.js';
import { optionError, rejectUnknownKeys } from '../../option-keys.js';

/** The part of a cassandra-driver `Client` the store uses (a real Client, or a fake in tests). */
export interface CassandraClient {
  execute(query: string, params?: unknown[], options?: object): Promise<{ rows: Row[]; pageState?: string | null }>;
  batch(queries: { query: string; params: unknown[] }[], options?: object): Promise<unknown>;
  shutdown?(): Promise<void>;
}

/** A result row as the driver returns it. */
export type Row = Record<string, unknown> & { get?(name: string): unknown };

/** Table names of the schema. */
export interface TableNames {
  schemaMeta: string;
  dataPoints: string;
  series: string;
  metricBuckets: string;
  metricNames: string;
  metadata: string;
  /** The series index: postings per (metric, bucket, tag name, tag value). */
  seriesTags: string;
  /** The metrics that have a series with a tag name and value (a tenant's metric names). */
  tagMetrics: string;
  /** Layout 3's points: compressed chunks per (metric, series, bucket). */
  chunks: string;
  /** Leases of background work shared by app instances (compaction). */
  leases: string;
}

/** Options of {@link CassandraStore}. */
export interface CassandraStoreOptions {
  /** An existing driver client (the store never shuts it down). Give this or `contactPoints`. */
  client?: CassandraClient;
  /** Hosts of a client the store creates and shuts down, e.g. `['10.0.0.1', '10.0.0.2:9042']`. */
  contactPoints?: string[];
  /** The driver's local data center, needed with `contactPoints` (`datacenter1` on a Cassandra left at its defaults). */
  localDataCenter?: string;
  /** User name and password for the client it creates. */
  credentials?: { username: string; password: string };
  /** Further cassandra-driver `ClientOptions` for the client it creates (`sslOptions`, `socketOptions`, …). */
  clientOptions?: Record<string, unknown>;
  /** Keyspace of every table. @default 'kairosdb' */
  keyspace?: string;
  /** Table names. @default schema_meta, data_points, series, metric_buckets, metric_names, metadata, series_tags, tag_metrics, chunks, leases */
  tables?: Partial<TableNames>;
  /** Limits of a managed service: `astra` and `keyspaces` create no keyspace and use smaller batches. @default 'cassandra' */
  preset?: 'cassandra' | 'astra' | 'keyspaces';
  /** Run the DDL (IF NOT EXISTS) when the store starts; `false` for operators who run `koa-kairosdb-schema`'s CQL themselves. @default true */
  createSchema?: boolean;
  /** Also create the keyspace when creating the schema. @default true, false with a managed-service preset */
  createKeyspace?: boolean;
  /** Keyspace replication for `createKeyspace`. @default { class: 'SimpleStrategy', replication_factor: 1 } */
  replication?: Record<string, string | number>;
  /** Cassandra's compaction of the `chunks` table. @default TimeWindowCompactionStrategy with a window of one bucket */
  compaction?: Record<string, string | number>;
  /** Partition width of data_points in ms, 1 hour … 21 days; fixed once data exists. @default 86400000 (1 day) */
  bucketWidthMs?: number;
  /** Most rows (chunks, index rows) in one UNLOGGED batch; a batch also stays under Cassandra's 5 KiB warning threshold. @default 100 (30 with the keyspaces preset) */
  batchSize?: number;
  /** Most statements and batches in flight at once, reads included. @default 64 */
  concurrency?: number;
  /** Write and read consistency (a cassandra-driver `types.consistencies` value). @default LOCAL_QUORUM */
  consistency?: number;
  /** Index rows remembered as written, so they are not written again (at least this many, fewer than twice). @default 100000 */
  indexCacheSize?: number;
  /** Rows fetched per page on reads. @default 5000 */
  pageSize?: number;
  /**
   * Partitions merged at once by background compaction (tiers of small chunks, sweeps of closed buckets); 0 turns
   * it off (chunks then stay as written, one per request and series). @default 2
   */
  compactionConcurrency?: number;
  /**
   * Consistency of a merge's output (a cassandra-driver `types.consistencies` value), written before the chunks it
   * replaces are deleted. ALL keeps points through any crash (see docs/stores.md, "Compaction and crashes"); merges
   * then wait while a replica is down. @default ALL (5); `consistency` with the keyspaces preset (writes there take LOCAL_QUORUM only)
   */
  compactionConsistency?: number;
  /** How often the sweep looks for closed buckets to compact, in ms; 0: never (call `compact()` yourself). @default 60000 */
  compactIntervalMs?: number;
  /** Seconds used as TTL for every point, whatever the request says (KairosDB's force_default_ttl). */
  forceTtl?: number;
  /** Counts a point's TTL from its timestamp, not from now; points already expired are dropped. @default false */
  alignTtlWithTimestamp?: boolean;
  /** Allows expiry dates after 2038-01-19 (Cassandra 5+); otherwise TTLs are clamped to it, with a warning. @default false */
  allowExpiryAfter2038?: boolean;
  /** Receives warnings (clamped TTLs, dropped expired points) and driver details. @default silent */
  logger?: Logger;
  /** Current time in ms. @default Date.now */
  clock?: () => number;
}

/** Options with every default applied. */
export interface ResolvedCassandraOptions {
  keyspace: string;
  tables: TableNames;
  createSchema: boolean;
  createKeyspace: boolean;
  replication: Record<string, string | number>;
  compaction: Record<string, string | number>;
  bucketWidthMs: number;
  batchSize: number;
  concurrency: number;
  consistency: number;
  indexCacheSize: number;
  pageSize: number;
  compactionConcurrency: number;
  compactionConsistency: number;
  compactIntervalMs: number;
  forceTtl: number | undefined;
  alignTtlWithTimestamp: boolean;
  allowExpiryAfter2038: boolean;
  logger: Logger;
  clock: () => number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LOCAL_QUORUM = 6;
const ALL = 5;
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
const DATA_CENTER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/;

/** Applies defaults and presets and checks every option, throwing a `TypeError` that names the bad one. */
export function resolveCassandraOptions(options: CassandraStoreOptions): ResolvedCassandraOptions {
  checkShapes(options);
  const managed = options.preset === 'astra' || options.preset === 'keyspaces';
  const bucketWidthMs = options.bucketWidthMs ?? DAY;
  const resolved: ResolvedCassandraOptions = {
    keyspace: options.keyspace ?? 'kairosdb',
    tables: {
      schemaMeta: 'schema_meta',
      dataPoints: 'data_points',
      series: 'series',
      metricBuckets: 'metric_buckets',
      metricNames: 'metric_names',
      metadata: 'metadata',
      seriesTags: 'series_tags',
      tagMetrics: 'tag_metrics',
      chunks: 'chunks',
      leases: 'leases',
      ...options.tables,
    },
    createSchema: options.createSchema ?? true,
    createKeyspace: options.createKeyspace ?? !managed,
    replication: options.replication ?? { class: 'SimpleStrategy', replication_factor: 1 },
    compaction: options.compaction ?? {
      class: 'TimeWindowCompactionStrategy',
      compaction_window_unit: 'HOURS',
      compaction_window_size: Math.max(1, Math.round(bucketWidthMs / HOUR)),
    },
    bucketWidthMs,
    batchSize: options.batchSize ?? (options.preset === 'keyspaces' ? 30 : 100),
    concurrency: options.concurrency ?? 64,
    consistency: options.consistency ?? LOCAL_QUORUM,
    indexCacheSize: options.indexCacheSize ?? 100_000,
    pageSize: options.pageSize ?? 5000,
    compactionConcurrency: options.compactionConcurrency ?? 2,
    compactionConsistency: options.compactionConsistency ?? (options.preset === 'keyspaces' ? (options.consistency ?? LOCAL_QUORUM) : ALL),
    compactIntervalMs: options.compactIntervalMs ?? 60_000,
    forceTtl: options.forceTtl,
    alignTtlWithTimestamp: options.alignTtlWithTimestamp ?? false,
    allowExpiryAfter2038: options.allowExpiryAfter2038 ?? false,
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? Date.now,
  };
  for (const name of [resolved.keyspace, ...Object.values(resolved.tables)]) {
    if (!IDENTIFIER.test(name)) throw optionError(`CassandraStore: '${name}' is not a valid keyspace or table name`);
  }
  if (!Number.isInteger(bucketWidthMs) || bucketWidthMs < HOUR || bucketWidthMs > 21 * DAY) {
    throw optionError('CassandraStore: bucketWidthMs must be an integer between 3600000 (1 hour) and 1814400000 (21 days)');
  }
  for (const name of ['batchSize', 'concurrency', 'indexCacheSize', 'pageSize'] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] < 1) throw optionError(`CassandraStore: ${name} must be a positive integer`);
  }
  for (const name of ['compactionConcurrency', 'compactIntervalMs'] as const) {
    if (!Number.isSafeInteger(resolved[name]) || resolved[name] < 0) throw optionError(`CassandraStore: ${name} must be a whole number ≥ 0`);
  }
  for (const name of ['consistency', 'compactionConsistency'] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] < 0 || resolved[name] > 10) {
      throw optionError(`CassandraStore: ${name} must be a cassandra-driver types.consistencies value (0–10, e.g. 6 for localQuorum), got ${String(resolved[name])}`);
    }
  }
  const { forceTtl } = resolved;
  if (forceTtl !== undefined && (!Number.isInteger(forceTtl) || forceTtl < 0)) {
    throw optionError('CassandraStore: forceTtl must be a whole number of seconds ≥ 0');
  }
  return resolved;
}

const KNOWN: readonly (keyof CassandraStoreOptions)[] = [
  'client', 'contactPoints', 'localDataCenter', 'credentials', 'clientOptions', 'keyspace', 'tables', 'preset', 'createSchema',
  'createKeyspace', 'replication', 'compaction', 'bucketWidthMs', 'batchSize', 'concurrency', 'consistency', 'indexCacheSize',
  'pageSize', 'compactionConcurrency', 'compactionConsistency', 'compactIntervalMs', 'forceTtl', 'alignTtlWithTimestamp', 'allowExpiryAfter2038', 'logger', 'clock',
];
const TABLES: readonly (keyof TableNames)[] = ['schemaMeta', 'dataPoints', 'series', 'metricBuckets', 'metricNames', 'metadata', 'seriesTags', 'tagMetrics', 'chunks', 'leases'];
const PRESETS = ['cassandra', 'astra', 'keyspaces'];

/** Checks the keys and the kinds of values, so that a slip fails at start with the option's name. */
function checkShapes(options: CassandraStoreOptions): void {
  if (typeof options !== 'object' || options === null) throw optionError('CassandraStore: options must be an object');
  rejectUnknownKeys('CassandraStore(options)', options, KNOWN, { hosts: 'contactPoints', host: 'contactPoints', dataCenter: 'localDataCenter' });
  const fail = (name: string, expected: string, value: unknown) => {
    throw optionError(`CassandraStore: ${name} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
  };
  const { contactPoints, localDataCenter, credentials, tables, preset, replication } = options;
  if (contactPoints !== undefined && (!Array.isArray(contactPoints) || contactPoints.length === 0 || !contactPoints.every((p) => typeof p === 'string' && p !== ''))) {
    fail('contactPoints', "a non-empty array of host names, e.g. ['10.0.0.1', '10.0.0.2:9042']", contactPoints);
  }
  if (localDataCenter !== undefined && (typeof localDataCenter !== 'string' || localDataCenter === '')) fail('localDataCenter', 'a data center name', localDataCenter);
  if (credentials !== undefined && (typeof credentials?.username !== 'string' || typeof credentials?.password !== 'string')) {
    fail('credentials', '{ username, password } (strings)', '…');
  }
  for (const name of ['createSchema', 'createKeyspace', 'alignTtlWithTimestamp', 'allowExpiryAfter2038'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') fail(name, 'true or false', options[name]);
  }
  if (preset !== undefined && !PRESETS.includes(preset)) fail('preset', `one of ${PRESETS.join(', ')}`, preset);
  if (tables !== undefined) rejectUnknownKeys('CassandraStore(options.tables)', tables, TABLES);
  if (replication !== undefined) checkReplication(replication, fail);
  for (const name of ['clock'] as const) if (options[name] !== undefined && typeof options[name] !== 'function') fail(name, 'a function', '…');
  for (const level of ['error', 'warn', 'info', 'debug'] as const) {
    if (options.logger !== undefined && typeof options.logger?.[level] !== 'function') fail(`logger.${level}`, 'a function', '…');
  }
}

/** SimpleStrategy with a replication factor, or NetworkTopologyStrategy with one per data center: whole numbers ≥ 1. */
function checkReplication(replication: Record<string, string | number>, fail: (name: string, expected: string, value: unknown) => never): void {
  const { class: strategy, ...factors } = replication;
  const known = ['SimpleStrategy', 'NetworkTopologyStrategy'];
  if (typeof strategy !== 'string' || !known.includes(strategy)) fail('replication.class', known.join(' or '), strategy);
  if (strategy === 'SimpleStrategy' && Object.keys(factors).join() !== 'replication_factor') {
    fail('replication', "{ class: 'SimpleStrategy', replication_factor: N }", replication);
  }
  if (Object.keys(factors).length === 0) fail('replication', "a factor per data center, e.g. { class: 'NetworkTopologyStrategy', dc1: 3 }", replication);
  for (const [name, factor] of Object.entries(factors)) {
    if (!DATA_CENTER.test(name)) fail(`replication.${name}`, 'named after a data center (letters, digits, _ . -)', name);
    if (!Number.isSafeInteger(Number(factor)) || Number(factor) < 1 || String(factor).trim() === '') fail(`replication.${name}`, 'a whole number ≥ 1', factor);
  }
}

/** The settings of the client the store creates: `clientOptions` with the top-level host settings over it. */
export function driverOptions(options: CassandraStoreOptions): Record<string, unknown> {
  const { contactPoints, localDataCenter, credentials } = options;
  const merged: Record<string, unknown> = { ...options.clientOptions };
  if (contactPoints !== undefined) merged.contactPoints = contactPoints;
  if (localDataCenter !== undefined) merged.localDataCenter = localDataCenter;
  if (credentials !== undefined) merged.credentials = credentials;
  if (!Array.isArray(merged.contactPoints) || merged.contactPoints.length === 0) {
    throw optionError("CassandraStore: give contactPoints (e.g. ['10.0.0.1']) and localDataCenter, or client (an existing cassandra-driver Client)");
  }
  if (typeof merged.localDataCenter !== 'string') {
    throw optionError("CassandraStore: localDataCenter is needed with contactPoints (a Cassandra left at its defaults calls it 'datacenter1'; see nodetool status)");
  }
  return merged;
}

