import type { Context } from 'koa';
import { hostname } from 'node:os';
import type { StatisticsOptions, StatisticsSettings } from './metrics/statistics.js';
import { defaultCassandraStore, type DefaultCassandraOptions } from './default-store.js';
import { silentLogger, type Logger } from './logger.js';
import { optionError, rejectUnknownKeys } from './option-keys.js';
import { MAX_TTL, type SeriesWrite, type Store } from './store-api/contract.js';
import { TypeRegistry } from './types/registry.js';
import type { RollupSettings } from './rollups/settings.js';

export type { DefaultCassandraOptions } from './default-store.js';
export type { Logger } from './logger.js';
export type { StatisticsOptions } from './metrics/statistics.js';

/** What a request is about to do, as the `authorize` hook sees it. */
export type AccessRequest =
  /** `protocol`: how the points came when not as KairosDB's JSON (`influx`, `opentsdb`). */
  | { action: 'write'; series: readonly SeriesWrite[]; protocol?: string }
  | { action: 'read'; metrics: string[] }
  | { action: 'delete'; metrics: string[] }
  | { action: 'list' }
  /** An informational route: /features, /version, /health/* (unless `publicHealth`) and the explorer's files (/ui/...). */
  | { action: 'info'; route: string }
  | { action: 'metadata'; operation: 'read' | 'write' | 'delete'; service: string; serviceKey?: string; key?: string }
  /** The admin API (`routes: { admin: true }`): list the running queries, kill one by hash, list the scheduled jobs. */
  | { action: 'admin'; operation: 'list' | 'kill' | 'jobs'; hash?: string }
  /** The Roll-ups API (`rollups: true`); creating or updating a task names the metrics it reads and the ones it saves to. */
  | { action: 'rollups'; operation: 'create' | 'update' | 'list' | 'read' | 'status' | 'delete'; id?: string; metrics?: string[]; saveAs?: string[] };

/** Options of the roll-ups (`rollups`). */
export interface RollupOptions {
  /** Whether this instance executes tasks; `false` mounts the API only (another instance runs them). @default true */
  run?: boolean;
  /** How often the runner takes or renews its lease and looks for due tasks, ms. @default 5000 */
  pollMs?: number;
  /**
   * How long the lease lasts unless renewed, ms: an instance that dies holding it is taken over after this (plus a
   * poll); keep it below the shortest `execution_interval`. @default 30000
   */
  leaseMs?: number;
  /** Most roll-up tasks (per tenant on a tenant-bound mount); one more answers 400. @default 1000 */
  maxTasks?: number;
  /** The host name statuses give as `executing_host`. @default os.hostname() */
  host?: string;
}

/** Options of {@link kairosdb}. */
export interface KairosdbOptions {
  /** Where data points are written and read. Give this or `cassandra`. */
  store?: Store;
  /** Options of a CassandraStore built when no `store` is given (cassandra-driver loads on the first request). */
  cassandra?: DefaultCassandraOptions;
  /** The value types this mount accepts. @default a registry with long, double, string and complex-number */
  types?: TypeRegistry;
  /** Path prefix of every route. @default '/api/v1' */
  prefix?: string;
  /** Largest request body on the wire, in bytes. @default 16777216 (16 MiB) */
  maxBodyBytes?: number;
  /** Largest body after decompression, in bytes; parsing one of this size blocks the event loop ~9 ms per MiB and takes ~12× its size in memory. @default 16777216 (16 MiB) */
  maxDecompressedBytes?: number;
  /** Most error messages in one response. @default 100 */
  maxErrors?: number;
  /** TTL in seconds of points whose metric has none (or 0); 0 keeps them forever. @default 0 */
  defaultTtl?: number;
  /** Receives store failures and other internals never sent to clients. @default a logger that drops everything */
  logger?: Logger;
  /** Route groups to mount; set one to `false` to leave it out (e.g. ingest only), `ui: true` to add the explorer page. @default all but ui */
  routes?: Partial<Record<RouteGroup, boolean>>;
  /** Most raw data points one query may read; more answers 400. @default 10000000 */
  maxQueryPoints?: number;
  /** Largest query, delete or tags body after decompression, in bytes; more answers 413. @default 1048576 (1 MiB) */
  maxQueryBodyBytes?: number;
  /** Deepest nesting of arrays and objects in a query body, and in an ingest body that is rejected or makes a type's parser throw; deeper answers 400. @default 64 */
  maxJsonDepth?: number;
  /**
   * Most different member names (object keys) one JSON body may use, checked before it is parsed (a body of 64 KiB or
   * more whose sampled names vary is counted; see docs/options.md); more answers 400. JSON.parse of a body of 700,000
   * different tag names held the event loop 2.3 s. @default 10000
   */
  maxNamesPerBody?: number;
  /** Most metrics in one query. @default 1000 */
  maxQueryMetrics?: number;
  /** Most metadata keys one service holds across its service keys (each tenant's services apart); a new key past it answers 400, and so does listing a service that holds more. @default 10000 */
  maxMetadataKeys?: number;
  /** Most tags one written series may have (the tenant tag included); more answers 400. @default 50 */
  maxTagsPerSeries?: number;
  /** Longest tag name of a written series, in characters; longer answers 400. @default 256 */
  maxTagNameLength?: number;
  /** Longest tag value of a written series, in characters; longer answers 400. @default 4096 */
  maxTagValueLength?: number;
  /** Opt-in: new series a tenant (or the mount, when not tenant-bound) may add per minute; a write past it answers 429 with Retry-After and writes nothing. 0 is no limit; needs a store with `countNewSeries` (the built-in memory and SQLite stores). @default 0 */
  maxNewSeriesPerMinute?: number;
  /** Most tag names in one tag grouper, and most tag values in one metric's tag filter. @default 1000 */
  maxQueryTags?: number;
  /** Most values one query answers, `gaps` nulls included; known too many up front or past it while running answers 400. @default 1000000 */
  maxQueryOutputPoints?: number;
  /** Most series one query metric may select; checked from the store's series index before any point is read (stores with `countSeries`), else as series are read; more answers 400. @default 100000 */
  maxQuerySeries?: number;
  /** Most results (groups) one query answers. @default 10000 */
  maxQueryGroups?: number;
  /** Largest query answer in bytes. @default 67108864 (64 MiB) */
  maxQueryResponseBytes?: number;
  /** Time one query may run (reading, aggregating, and sending the answer to the client); past it 503 with Retry-After, or a cut connection once the answer has started. @default 30000 */
  queryTimeoutMs?: number;
  /** Reads this mount runs at once (/datapoints/query, /datapoints/query/tags, /metricnames, metadata reads); more answer 503 with Retry-After. Health routes are never limited. @default 8 */
  maxInFlightQueries?: number;
  /** Requests one client address (`ctx.ip`) may have in flight, body upload included; 0 is no limit. @default 0 */
  maxRequestsPerClient?: number;
  /** Slowest body upload accepted after `bodyRateGraceMs`, in bytes per second; slower gets 408. 0 is no minimum. @default 1024 */
  minBodyBytesPerSecond?: number;
  /** Slowest reading of a streamed query answer accepted after `bodyRateGraceMs`, over the last such period, in bytes per second; a slower client's connection is cut and its slot freed. 0 is no minimum. @default 4096 */
  minAnswerBytesPerSecond?: number;
  /** Time a body upload may take before `minBodyBytesPerSecond` applies, and the period over which `minAnswerBytesPerSecond` is measured. @default 5000 */
  bodyRateGraceMs?: number;
  /** Current time in ms, for relative query times. @default Date.now */
  clock?: () => number;
  /** Writes and deletes this mount handles at once (counted once the body has arrived); more answer 503 with Retry-After. @default 64 */
  maxInFlightRequests?: number;
  /** Body bytes (received and decompressed) held by requests in flight; more answer 503. @default 67108864 (64 MiB) */
  maxInFlightBytes?: number;
  /** Time to receive a whole request body; a slower client gets 408 and a closed connection. @default 30000 */
  bodyTimeoutMs?: number;
  /** Time a store call (write, read, delete, ping) may take; past it the request answers 503 (writes are idempotent, retry is safe). @default 30000 */
  storeTimeoutMs?: number;
  /** @deprecated the old name of `storeTimeoutMs`, which it also bounded reads with. */
  writeTimeoutMs?: number;
  /**
   * Opt-in: writes the mount's own metrics into its store every `intervalMs`, as KairosDB writes its statistics, so the
   * explorer charts them (`kairosdb.http.request_count`, `kairosdb.datastore.write_time`, …; see docs/monitoring.md).
   * `true` takes every default. @default false
   */
  statistics?: boolean | StatisticsOptions;
  /**
   * Opt-in: KairosDB's roll-ups — the Roll-ups API at /rollups and a runner that executes its tasks on their
   * `execution_interval`, one instance at a time among all sharing the store (a lease in the store). `true` takes every
   * default. Needs a store with `metadata` and `coordination` (MemoryStore, SqliteStore, CassandraStore). @default false
   */
  rollups?: boolean | RollupOptions;
  /** Called once per handled request with what it did, for the host's metrics (prom-client, OpenTelemetry, …). */
  onRequest?: (event: RequestEvent) => void;
  /** Called after parsing and before any write, read or delete, and before informational routes (`action: 'info'`); `false` (or a thrown 401/403) answers 403. */
  authorize?: (ctx: Context, request: AccessRequest) => boolean | void | Promise<boolean | void>;
  /** Binds the mount to tenants: the caller's tenant, stamped on every written series and required on every read. */
  tenant?: (ctx: Context) => string | undefined;
  /** The tag that carries the tenant. @default 'tenant' */
  tenantTag?: string;
  /**
   * Origins (`https://dash.example.com`) whose pages may send state-changing requests (ingest, delete, metadata writes)
   * from a browser; a browser request from any other site answers 403. `['*']` allows every origin (only where no
   * browser carries credentials). Requests without `Origin` or `Sec-Fetch-Site` (clients, collectors) are never refused.
   * @default []
   */
  allowedOrigins?: readonly string[];
  /** Health routes answer without asking `authorize` (for load balancers and probes that carry no credentials). @default false */
  publicHealth?: boolean;
}

/** What one handled request did, as `onRequest` receives it. */
export interface RequestEvent {
  method: string;
  /** Route below the prefix, e.g. `/datapoints`. */
  route: string;
  status: number;
  /** Body bytes received on the wire. */
  bytesIn: number;
  /** Data points written (ingest) or read (queries). */
  datapoints: number;
  /** Time waiting for the store, ms. */
  storeMs: number;
  durationMs: number;
}

/** The route groups: ingest (POST /datapoints), query (/datapoints/query, /datapoints/query/tags),
 * delete (/datapoints/delete, DELETE /metric/{name}), metadata (/metricnames, /version), metadataApi (KairosDB's
 * Metadata API, /metadata/...), health (/health/*), ui (the explorer page at /ui/, off unless `routes: { ui: true }`),
 * metrics (GET /metrics, the mount's own metrics in Prometheus' text format, off unless `routes: { metrics: true }`),
 * influx (Influx line protocol: POST /write and /api/v2/write, off unless `routes: { influx: true }`),
 * opentsdb (OpenTSDB's POST /api/put, off unless `routes: { opentsdb: true }`), prometheus (remote write at POST
 * /write and read at POST /read, off unless `routes: { prometheus: true }`; needs the `snappy` package), admin
 * (KairosDB's /admin/runningqueries, /admin/killquery/{hash}, /admin/scheduledjobs, off unless `routes: { admin: true }`). */
export type RouteGroup = (typeof ROUTE_GROUPS)[number];

/** The route groups, in the order they are mounted. */
export const ROUTE_GROUPS = ['ingest', 'query', 'delete', 'metadata', 'metadataApi', 'health', 'ui', 'metrics', 'influx', 'opentsdb', 'prometheus', 'admin'] as const;

/** Route groups mounted only when asked for (`routes: { ui: true }`). */
export const OPT_IN_GROUPS: readonly RouteGroup[] = ['ui', 'metrics', 'influx', 'opentsdb', 'prometheus', 'admin'];

/** Options with every default applied. */
export type ResolvedOptions = Required<Omit<KairosdbOptions, 'cassandra' | 'writeTimeoutMs' | 'onRequest' | 'authorize' | 'tenant' | 'statistics' | 'rollups'>> &
  Pick<KairosdbOptions, 'onRequest' | 'authorize' | 'tenant'> & { statistics: StatisticsSettings | undefined; rollups: RollupSettings | undefined };

const DEFAULTS = {
  prefix: '/api/v1',
  maxBodyBytes: 16 * 1024 * 1024,
  maxDecompressedBytes: 16 * 1024 * 1024,
  maxErrors: 100,
  defaultTtl: 0,
  maxQueryPoints: 10_000_000,
  routes: {},
  maxInFlightRequests: 64,
  maxInFlightBytes: 64 * 1024 * 1024,
  bodyTimeoutMs: 30_000,
  storeTimeoutMs: 30_000,
  tenantTag: 'tenant',
  maxQueryBodyBytes: 1024 * 1024,
  maxJsonDepth: 64,
  maxNamesPerBody: 10_000,
  maxQueryMetrics: 1000,
  maxQueryTags: 1000,
  maxTagsPerSeries: 50,
  maxNewSeriesPerMinute: 0,
  maxTagNameLength: 256,
  maxTagValueLength: 4096,
  maxMetadataKeys: 10_000,
  maxQueryOutputPoints: 1_000_000,
  maxQueryGroups: 10_000,
  maxQuerySeries: 100_000,
  maxQueryResponseBytes: 64 * 1024 * 1024,
  queryTimeoutMs: 30_000,
  maxInFlightQueries: 8,
  maxRequestsPerClient: 0,
  minBodyBytesPerSecond: 1024,
  minAnswerBytesPerSecond: 4096,
  bodyRateGraceMs: 5000,
  allowedOrigins: [] as readonly string[],
  publicHealth: false,
};

/** Applies defaults and checks every option, throwing a `TypeError` that names the bad one. */
export function resolveOptions(options: KairosdbOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw optionError('kairosdb(options): options must be an object');
  rejectUnknownKeys('kairosdb(options)', options, KNOWN, { maxBodySize: 'maxBodyBytes', limit: 'maxBodyBytes', path: 'prefix' });
  const { cassandra, writeTimeoutMs, statistics, rollups, ...rest } = options;
  if (writeTimeoutMs !== undefined && rest.storeTimeoutMs !== undefined) {
    throw optionError('kairosdb(options): give options.storeTimeoutMs, not also its old name writeTimeoutMs');
  }
  if (writeTimeoutMs !== undefined) rest.storeTimeoutMs = writeTimeoutMs;
  const resolved: ResolvedOptions = {
    ...DEFAULTS,
    types: new TypeRegistry(),
    logger: silentLogger,
    clock: Date.now,
    ...definedOnly(rest),
    statistics: resolveStatistics(statistics),
    rollups: resolveRollups(rollups),
  } as ResolvedOptions;
  if (resolved.store !== undefined && cassandra !== undefined) {
    throw optionError('kairosdb(options): give options.store or options.cassandra, not both');
  }
  if (cassandra !== undefined) resolved.store = defaultCassandraStore(cassandra, resolved.logger);
  const { store, types, prefix, logger } = resolved;
  if (store === undefined) {
    throw optionError('kairosdb(options): give options.store (MemoryStore, SqliteStore, CassandraStore, …) or options.cassandra (contactPoints, localDataCenter, keyspace) for the default Cassandra store');
  }
  if (typeof store !== 'object' || store === null || typeof store.write !== 'function') {
    throw optionError('kairosdb(options): options.store must be a store (an object with write(), read(), ...)');
  }
  if (!(types instanceof TypeRegistry)) throw optionError('kairosdb(options): options.types must be a TypeRegistry');
  if (typeof prefix !== 'string' || (prefix !== '' && !/^\/.*[^/]$/.test(prefix))) {
    throw optionError(`kairosdb(options): options.prefix must be '' or start with '/' and not end with '/', got ${JSON.stringify(prefix)}`);
  }
  for (const name of INTEGER_OPTIONS) {
    const value = resolved[name];
    const min = MINIMUM[name] ?? 1;
    if (!Number.isSafeInteger(value) || value < min) {
      throw optionError(`kairosdb(options): options.${name} must be ${min === 1 ? 'a positive integer' : `an integer ≥ ${min}`}, got ${String(value)}`);
    }
  }
  for (const name of ['onRequest', 'authorize', 'tenant'] as const) {
    if (resolved[name] !== undefined && typeof resolved[name] !== 'function') throw optionError(`kairosdb(options): options.${name} must be a function`);
  }
  if (typeof resolved.tenantTag !== 'string' || resolved.tenantTag === '') throw optionError('kairosdb(options): options.tenantTag must be a non-empty string');
  const origins = resolved.allowedOrigins;
  if (!Array.isArray(origins) || !origins.every((o) => o === '*' || (typeof o === 'string' && isOrigin(o)))) {
    throw optionError(`kairosdb(options): options.allowedOrigins must be an array of origins such as 'https://dash.example.com' (scheme, host and port, no path), or ['*'], got ${JSON.stringify(origins)}`);
  }
  if (resolved.maxNewSeriesPerMinute > 0 && typeof resolved.store.countNewSeries !== 'function') {
    throw optionError('kairosdb(options): options.maxNewSeriesPerMinute needs a store that counts new series (countNewSeries: MemoryStore, SqliteStore); this store does not');
  }
  if (typeof resolved.publicHealth !== 'boolean') throw optionError(`kairosdb(options): options.publicHealth must be true or false, got ${JSON.stringify(resolved.publicHealth)}`);
  if (typeof resolved.clock !== 'function') throw optionError('kairosdb(options): options.clock must be a function');
  for (const group of Object.keys(resolved.routes)) {
    if (!(ROUTE_GROUPS as readonly string[]).includes(group)) {
      throw optionError(`kairosdb(options): options.routes.${group} is not a route group (${ROUTE_GROUPS.join(', ')})`);
    }
  }
  const { defaultTtl } = resolved;
  if (defaultTtl > MAX_TTL) {
    throw optionError(`kairosdb(options): options.defaultTtl must be an integer between 0 and ${MAX_TTL}`);
  }
  if (resolved.rollups && (!resolved.store.metadata || (resolved.rollups.run && !resolved.store.coordination))) {
    throw optionError('kairosdb(options): options.rollups needs a store that keeps metadata and coordination values (MemoryStore, SqliteStore, CassandraStore); this store does not');
  }
  for (const level of ['error', 'warn', 'info', 'debug'] as const) {
    if (typeof logger?.[level] !== 'function') throw optionError(`kairosdb(options): options.logger.${level} must be a function`);
  }
  return resolved;
}

const KNOWN: readonly (keyof KairosdbOptions)[] = [
  ...(Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]),
  'store', 'cassandra', 'types', 'logger', 'clock', 'onRequest', 'authorize', 'tenant', 'writeTimeoutMs', 'statistics', 'rollups',
];

const ROLLUP_KEYS: readonly (keyof RollupOptions)[] = ['run', 'pollMs', 'leaseMs', 'maxTasks', 'host'];

/** `rollups` checked, with its defaults; undefined when off. */
function resolveRollups(rollups: KairosdbOptions['rollups']): RollupSettings | undefined {
  if (rollups === undefined || rollups === false) return undefined;
  if (rollups !== true && (typeof rollups !== 'object' || rollups === null)) {
    throw optionError(`kairosdb(options): options.rollups must be true, false or an object, got ${JSON.stringify(rollups)}`);
  }
  const given = rollups === true ? {} : rollups;
  rejectUnknownKeys('kairosdb(options).rollups', given, ROLLUP_KEYS);
  const { run = true, pollMs = 5000, leaseMs = 30_000, maxTasks = 1000, host = hostname() || 'unknown' } = given;
  if (typeof run !== 'boolean') throw optionError(`kairosdb(options): options.rollups.run must be true or false, got ${JSON.stringify(run)}`);
  if (!Number.isSafeInteger(pollMs) || pollMs < 10) throw optionError(`kairosdb(options): options.rollups.pollMs must be an integer ≥ 10, got ${String(pollMs)}`);
  if (!Number.isSafeInteger(leaseMs) || leaseMs <= pollMs) {
    throw optionError(`kairosdb(options): options.rollups.leaseMs must be an integer greater than pollMs (${pollMs}: the lease is renewed every poll), got ${String(leaseMs)}`);
  }
  if (!Number.isSafeInteger(maxTasks) || maxTasks < 1) throw optionError(`kairosdb(options): options.rollups.maxTasks must be a positive integer, got ${String(maxTasks)}`);
  if (typeof host !== 'string' || host === '') throw optionError('kairosdb(options): options.rollups.host must be a non-empty string');
  return { run, pollMs, leaseMs, maxTasks, host };
}

const STATISTICS_KEYS: readonly (keyof StatisticsOptions)[] = ['intervalMs', 'prefix', 'tags', 'ttl'];

/** `statistics` checked, with its defaults; undefined when off. */
function resolveStatistics(statistics: KairosdbOptions['statistics']): StatisticsSettings | undefined {
  if (statistics === undefined || statistics === false) return undefined;
  if (statistics !== true && (typeof statistics !== 'object' || statistics === null)) {
    throw optionError(`kairosdb(options): options.statistics must be true, false or an object, got ${JSON.stringify(statistics)}`);
  }
  const given = statistics === true ? {} : statistics;
  rejectUnknownKeys('kairosdb(options).statistics', given, STATISTICS_KEYS);
  const { intervalMs = 60_000, prefix = 'kairosdb.', tags = { host: hostname() || 'unknown' }, ttl = 0 } = given;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1000) throw optionError(`kairosdb(options): options.statistics.intervalMs must be an integer ≥ 1000, got ${String(intervalMs)}`);
  if (typeof prefix !== 'string') throw optionError('kairosdb(options): options.statistics.prefix must be a string');
  if (typeof tags !== 'object' || tags === null || !Object.values(tags).every((v) => typeof v === 'string' && v !== '')) {
    throw optionError('kairosdb(options): options.statistics.tags must be an object of non-empty strings');
  }
  if (!Number.isSafeInteger(ttl) || ttl < 0 || ttl > MAX_TTL) throw optionError(`kairosdb(options): options.statistics.ttl must be an integer between 0 and ${MAX_TTL}`);
  return { intervalMs, prefix, tags: { ...tags }, ttl };
}

/** Every numeric option is a whole number, ≥ 1 unless it says otherwise here. */
const INTEGER_OPTIONS = (Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]).filter((name) => typeof DEFAULTS[name] === 'number') as NumericOption[];
const MINIMUM: Partial<Record<NumericOption, number>> = { maxNewSeriesPerMinute: 0, maxRequestsPerClient: 0, minBodyBytesPerSecond: 0, minAnswerBytesPerSecond: 0, defaultTtl: 0 };
type NumericOption = { [K in keyof typeof DEFAULTS]: (typeof DEFAULTS)[K] extends number ? K : never }[keyof typeof DEFAULTS];

function isOrigin(text: string): boolean {
  try {
    return new URL(text).origin === text;
  } catch {
    return false;
  }
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
