import type { Logger } from '../../options.js';

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
}

/** Options of {@link CassandraStore}. */
export interface CassandraStoreOptions {
  /** An existing driver client (the store never shuts it down). Give this or `clientOptions`. */
  client?: CassandraClient;
  /** Options for a client the store creates and shuts down (`contactPoints`, `localDataCenter`, credentials, …). */
  clientOptions?: Record<string, unknown>;
  /** Keyspace of every table. @default 'kairosdb' */
  keyspace?: string;
  /** Table names. @default schema_meta, data_points, series, metric_buckets, metric_names */
  tables?: Partial<TableNames>;
  /** Limits of a managed service: `astra` and `keyspaces` create no keyspace and use smaller batches. @default 'cassandra' */
  preset?: 'cassandra' | 'astra' | 'keyspaces';
  /** Run the DDL (IF NOT EXISTS) when the store starts. @default false */
  createSchema?: boolean;
  /** Also create the keyspace when creating the schema. @default true, false with a managed-service preset */
  createKeyspace?: boolean;
  /** Keyspace replication for `createKeyspace`. @default { class: 'SimpleStrategy', replication_factor: 1 } */
  replication?: Record<string, string | number>;
  /** Compaction of data_points. @default TimeWindowCompactionStrategy with a window of one bucket */
  compaction?: Record<string, string | number>;
  /** Partition width of data_points in ms, 1 hour … 21 days; fixed once data exists. @default 86400000 (1 day) */
  bucketWidthMs?: number;
  /** Most statements in one single-partition UNLOGGED batch. @default 100 (30 with the keyspaces preset) */
  batchSize?: number;
  /** Most statements and batches in flight at once, reads included. @default 64 */
  concurrency?: number;
  /** Write and read consistency (a cassandra-driver `types.consistencies` value). @default LOCAL_QUORUM */
  consistency?: number;
  /** Index rows remembered as written, so they are not written again. @default 100000 */
  indexCacheSize?: number;
  /** Rows fetched per page on reads. @default 5000 */
  pageSize?: number;
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
  forceTtl: number | undefined;
  alignTtlWithTimestamp: boolean;
  allowExpiryAfter2038: boolean;
  logger: Logger;
  clock: () => number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LOCAL_QUORUM = 6;
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
const silent: Logger = { error() {}, warn() {}, info() {}, debug() {} };

/** Applies defaults and presets and checks every option, throwing a `TypeError` that names the bad one. */
export function resolveCassandraOptions(options: CassandraStoreOptions): ResolvedCassandraOptions {
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
      ...options.tables,
    },
    createSchema: options.createSchema ?? false,
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
    forceTtl: options.forceTtl,
    alignTtlWithTimestamp: options.alignTtlWithTimestamp ?? false,
    allowExpiryAfter2038: options.allowExpiryAfter2038 ?? false,
    logger: options.logger ?? silent,
    clock: options.clock ?? Date.now,
  };
  for (const name of [resolved.keyspace, ...Object.values(resolved.tables)]) {
    if (!IDENTIFIER.test(name)) throw new TypeError(`CassandraStore: '${name}' is not a valid keyspace or table name`);
  }
  if (!Number.isInteger(bucketWidthMs) || bucketWidthMs < HOUR || bucketWidthMs > 21 * DAY) {
    throw new TypeError('CassandraStore: bucketWidthMs must be an integer between 3600000 (1 hour) and 1814400000 (21 days)');
  }
  for (const name of ['batchSize', 'concurrency', 'indexCacheSize', 'pageSize'] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] < 1) throw new TypeError(`CassandraStore: ${name} must be a positive integer`);
  }
  const { forceTtl } = resolved;
  if (forceTtl !== undefined && (!Number.isInteger(forceTtl) || forceTtl < 0)) {
    throw new TypeError('CassandraStore: forceTtl must be a whole number of seconds ≥ 0');
  }
  return resolved;
}
