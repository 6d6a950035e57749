import type { Coordination, MetadataStore, PointPage, SeriesQuery, SeriesRead, SeriesWrite, Store, StoreCapabilities, TagFilter, Tags } from '../../store-api/contract.js';
import { importPeer } from '../../optional-peer.js';
import { inNameOrder } from '../../store-api/names.js';
import { matchesTags, rangeOf, tagsFrom } from '../../store-api/series-key.js';
import { StoreUnavailableError } from '../../store-api/unavailable.js';
import type { Points } from '../chunk/merge.js';
import { latestTtl, toMillis, WriteOrder, type ChunkRow } from './chunks.js';
import { Compactor } from './compactor.js';
import { isBatchTooLarge, isNoHostAvailable, mapDriverError } from './errors.js';
import { bucketOf, storageOf } from './keys.js';
import { Limiter } from './limiter.js';
import { indexLayout1, migrateLegacy, sweepBucket, sweepRecent, type StoreAccess } from './maintenance.js';
import { Lru } from './lru.js';
import { driverOptions, resolveCassandraOptions, type CassandraClient, type CassandraStoreOptions, type ResolvedCassandraOptions, type Row } from './options.js';
import { chunkRows, deleteRange, legacyPoints, mergedPages, type PartitionIo, type PartitionKey } from './partition.js';
import { batches, planWrite, slices, type IndexWrite, type Statement } from './plan.js';
import { NAMES_PART, queries, type Queries } from './queries.js';
import { LAYOUT_VERSION, schemaStatements } from './schema.js';
import { chunkTtl, outlives } from './ttl.js';

interface FoundSeries {
  id: Buffer;
  type: string;
  tags: Tags;
  buckets: number[];
}

/** cassandra-driver's `types.consistencies.serial`: a read that sees lightweight transactions through. */
const SERIAL = 8;

/** Metric names whose liveness is asked at once (the limiter runs `concurrency` of them at a time). */
const ALIVE_SLICE = 512;

/** A coordination value's row name: apart from the compaction's leases and marks. */
function sharedName(name: string): string {
  return `shared\u0000${name}`;
}

/** First and longest wait between probes while no host answers. */
const PROBE_FIRST_MS = 500;
const PROBE_MAX_MS = 5000;

/**
 * The Cassandra store (layout 3; docs/stores.md has the tables). Its stages:
 * - write: a request planned a slice at a time (plan.ts: a chunk row per series and bucket, index rows not known
 *   written), sent in UNLOGGED batches under one concurrency limit; 204 once every statement is acknowledged;
 * - read: a query's series from the index (postings of its rarest tag, else a bucket's series), then each series'
 *   chunk rows bucket by bucket, merged in write order (partition.ts), fetched ahead;
 * - compaction: tier merges as chunks land (compactor.ts) and sweeps of closed buckets under a lease (maintenance.ts);
 * - opening: the schema and its version checked, an earlier layout brought to this one (maintenance.ts).
 * Every statement is prepared and idempotent; while no host answers, calls fail at once (503) until a probe reaches one.
 * @example
 * import { CassandraStore } from 'koa-kairosdb/cassandra';
 * const store = new CassandraStore({ clientOptions: { contactPoints: ['10.0.0.1'], localDataCenter: 'dc1' }, createSchema: true });
 * await store.init();
 * app.use(kairosdb({ store }));
 */
export class CassandraStore implements Store {
  readonly capabilities: StoreCapabilities = { ttl: true, persistent: true };
  readonly options: ResolvedCassandraOptions;
  readonly #client: Promise<CassandraClient>;
  readonly #ownsClient: boolean;
  readonly #q: Queries;
  readonly #limiter: Limiter;
  readonly #written: Lru<number>;
  #ready: Promise<void> | undefined;
  #closed = false;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Where the store points, for messages: contact points and keyspace. */
  readonly #where: string;
  /** Set while no host answers: calls fail at once with this error, and a background probe looks for the cluster. */
  #outage: StoreUnavailableError | undefined;
  readonly #order = new WriteOrder();
  /** Whether `data_points` (layout 2) may still hold points: a keyspace opened at layout 1 or 2 and not yet migrated. */
  #legacy = false;
  readonly #io: StoreAccess;
  readonly #compactor: Compactor;
  #sweeps: NodeJS.Timeout | undefined;

  constructor(options: CassandraStoreOptions) {
    this.options = resolveCassandraOptions(options);
    if (options.client) {
      this.#client = Promise.resolve(options.client);
      this.#ownsClient = false;
      this.#where = `a given client, keyspace '${this.options.keyspace}'`;
    } else {
      const clientOptions = driverOptions(options);
      this.#client = loadDriver().then((driver) => new driver.Client(clientOptions as never) as never);
      this.#ownsClient = true;
      this.#where = `contact points ${(clientOptions.contactPoints as string[]).join(', ')}, keyspace '${this.options.keyspace}'`;
    }
    this.#client.catch(() => {});
    this.#q = queries(this.options);
    this.#limiter = new Limiter(this.options.concurrency);
    this.#written = new Lru(this.options.indexCacheSize);
    const store = this;
    const io: PartitionIo = {
      q: this.#q,
      all: (query, params) => this.#all(query, params),
      run: (query, params) => this.#run(query, params),
      runMergeOutput: (query, params) => this.#run(query, params, this.options.compactionConsistency),
      cellTtl: (expires, now) => chunkTtl(latestTtl(expires, now), this.options.bucketWidthMs, now, this.options),
      get legacy() {
        return store.#legacy;
      },
    };
    this.#compactor = new Compactor({ io, writer: this.#order.writer, bucketWidthMs: this.options.bucketWidthMs, concurrency: this.options.compactionConcurrency, clock: this.options.clock, logger: this.options.logger });
    this.#io = Object.assign(io, {
      options: this.options,
      compactor: this.#compactor,
      writer: this.#order.writer,
      rowPages: (query: string, params: unknown[]) => this.#rowPages(query, params),
      metricNames: () => this.metricNames(),
      closed: () => this.#closed,
    });
  }

  /** KairosDB's metadata in its own table, one partition per service. */
  readonly metadata: MetadataStore = {
    set: (service, serviceKey, key, value) => this.#track(() => this.#run(this.#q.metadataSet, [service, serviceKey, key, value])),
    get: async (service, serviceKey, key) => {
      await this.#ready0();
      return (await this.#all(this.#q.metadataGet, [service, serviceKey, key]))[0]?.value as string | undefined;
    },
    serviceKeys: async (service) => {
      await this.#ready0();
      const rows = await this.#all(this.#q.metadataServiceKeys, [service]);
      return [...new Set(rows.map((r) => r.service_key as string))];
    },
    keys: async (service, serviceKey) => {
      await this.#ready0();
      return (await this.#all(this.#q.metadataKeys, [service, serviceKey])).map((r) => r.key as string);
    },
    delete: (service, serviceKey, key) => this.#track(() => this.#run(this.#q.metadataDelete, [service, serviceKey, key])),
    count: async (service, atMost) => {
      await this.#ready0();
      return (await this.#all(this.#q.metadataCount, [service, atMost])).length;
    },
  };

  /**
   * Compare-and-set values in the leases table (names apart from the compaction's), each change a lightweight
   * transaction, each read at SERIAL consistency (it sees a transaction in progress through).
   */
  readonly coordination: Coordination = {
    get: async (name) => {
      await this.#ready0();
      const rows = await this.#all(this.#q.selectLease, [sharedName(name)], SERIAL);
      return (rows[0]?.holder as Buffer | null | undefined)?.toString('utf8');
    },
    compareAndSet: async (name, expected, next) => {
      const key = sharedName(name);
      const bytes = (text: string) => Buffer.from(text, 'utf8');
      if (expected === undefined && next === undefined) return (await this.coordination.get(name)) === undefined;
      let applied = false;
      await this.#track(async () => {
        const [query, params] =
          expected === undefined ? [this.#q.sharedInsert, [key, bytes(next as string)]]
          : next === undefined ? [this.#q.sharedDelete, [key, bytes(expected)]]
          : [this.#q.sharedUpdate, [bytes(next), key, bytes(expected)]];
        const client = await this.#client;
        // Not idempotent: a retried transaction that had applied would answer false.
        const result = await this.#limiter.run(() => client.execute(query, params, { prepare: true, isIdempotent: false, consistency: this.options.consistency }));
        applied = result.rows[0]?.['[applied]'] === true;
      });
      return applied;
    },
  };

  /** Creates the schema when `createSchema` is set, then checks schema_meta; runs once, before the first call. */
  init(): Promise<void> {
    this.#ready ??= this.#init().catch((error: unknown) => {
      this.#ready = undefined;
      throw this.#failed(error);
    });
    return this.#ready;
  }

  /**
   * Planned and sent a slice of the request at a time, the event loop given a turn between slices: the plan and the
   * driver's encoding of a request of 10,000 new series (~60,000 statements) held it for ~700 ms in one stretch.
   * After a statement fails no further slice is sent; the write fails with the first error once those sent settle.
   */
  async write(series: readonly SeriesWrite[]): Promise<void> {
    await this.#track(async () => {
      let failure: { error: unknown } | undefined;
      const sent: Promise<void>[] = [];
      const send = (done: Promise<void>) => sent.push(done.catch((error: unknown) => void (failure ??= { error })));
      let expired = 0;
      /** Each slice's statements settled; at most IN_FLIGHT_SLICES of them outstanding. */
      const slicesSent: Promise<unknown>[] = [];
      for (const slice of slices(series)) {
        if (sent.length > 0) await new Promise((resolve) => setImmediate(resolve));
        if (slicesSent.length >= IN_FLIGHT_SLICES) await slicesSent[slicesSent.length - IN_FLIGHT_SLICES];
        if (failure) break;
        const from = sent.length;
        const plan = planWrite(slice, { ...this.options, queries: this.#q, now: this.options.clock(), order: this.#order, indexed: (key, ttl) => this.#known(key, ttl) });
        expired += plan.expired;
        for (const batch of batches(plan.chunks, this.options.batchSize)) {
          send(this.#writeBatch(batch).then(() => batch.forEach((row) => this.#compactor.wrote(row.name, row.partition, row.key, row.points))));
        }
        // Index rows batched too (a request of 1,000 new series plans ~5,000 of them), each remembered once written.
        const writing = new Map<IndexWrite, Promise<void>>();
        for (const batch of batches(plan.index.filter((row) => row.shared === undefined || !this.#known(row.shared, row.ttl)), this.options.batchSize)) {
          const written = this.#writeBatch(batch).then(() => batch.forEach((row) => row.shared !== undefined && this.#remember(row.shared, row.ttl)));
          for (const row of batch) writing.set(row, written);
          send(written);
        }
        // A series' bucket is remembered once every one of its rows is written (and then not planned again).
        for (const { key, ttl, rows } of plan.series) void Promise.all(rows.map((row) => writing.get(row))).then(() => this.#remember(key, ttl), () => {});
        slicesSent.push(Promise.all(sent.slice(from)));
      }
      await Promise.all(sent);
      if (expired > 0) this.options.logger.warn({ expired }, 'koa-kairosdb: dropped points whose aligned TTL had already expired');
      if (failure) throw failure.error;
    });
  }

  async *read(query: SeriesQuery): AsyncIterable<SeriesRead> {
    await this.#ready0();
    const { start, end } = rangeOf(query);
    const range = { start, end, desc: query.order === 'desc', expiry: query.expiry === true };
    const found = await this.#findSeries(query, start, end);
    // The first bucket of the next few series is fetched while one is answered (a round trip per series in a row was
    // most of the time of a read of many short series).
    const firsts = new Map<number, Promise<Loaded>>();
    for (let i = 0; i < found.length; i++) {
      for (let k = i; k < Math.min(found.length, i + READ_AHEAD_SERIES); k++) {
        if (!firsts.has(k)) firsts.set(k, quiet(this.#load(query.metric, found[k] as FoundSeries, inOrder(found[k] as FoundSeries, range.desc)[0] as number, range)));
      }
      const series = found[i] as FoundSeries;
      const pages = this.#pages(query.metric, series, range, firsts.get(i) as Promise<Loaded>);
      firsts.delete(i);
      const first = await pages.next();
      if (first.done) continue;
      yield {
        metric: query.metric,
        tags: series.tags,
        type: series.type,
        storage: storageOf(series.type),
        async *points() {
          yield first.value;
          yield* pages;
        },
      };
    }
  }

  /** From the names partition, read from the prefix on (names are its clustering keys): costs what it returns. */
  async metricNames(prefix = ''): Promise<string[]> {
    await this.#ready0();
    const names: string[] = [];
    pages: for await (const rows of this.#rowPages(this.#q.selectNames, [NAMES_PART, prefix])) {
      for (const row of rows) {
        const metric = row.metric as string;
        if (!metric.startsWith(prefix)) break pages;
        names.push(metric);
      }
    }
    return inNameOrder(names);
  }

  /** From `tag_metrics`: one partition per tag name and value, read from the prefix on. */
  async metricNamesWithTag(prefix: string, name: string, value: string): Promise<string[]> {
    await this.#ready0();
    const listed: string[] = [];
    pages: for await (const rows of this.#rowPages(this.#q.selectTagMetrics, [name, value, prefix])) {
      for (const row of rows) {
        const metric = row.metric as string;
        if (!metric.startsWith(prefix)) break pages;
        listed.push(metric);
      }
    }
    // A row may outlive its metric (series deleted by range before the metric went): kept only while a bucket is.
    // Checked a slice at a time: 100,000 names' queries made at once were one stretch of the event loop.
    const kept: string[] = [];
    for (let at = 0; at < listed.length; at += ALIVE_SLICE) {
      const slice = listed.slice(at, at + ALIVE_SLICE);
      const alive = await Promise.all(slice.map(async (metric) => (await this.#all(this.#q.anyBucket, [metric])).length > 0));
      for (let i = 0; i < slice.length; i++) if (alive[i]) kept.push(slice[i] as string);
    }
    return inNameOrder(kept);
  }

  /** From the index rows of the buckets in the query's range (postings with a tag filter), no point read. */
  async countSeries(query: SeriesQuery, atMost: number): Promise<number> {
    await this.#ready0();
    const { start, end } = rangeOf(query);
    const seen = new Set<string>();
    for await (const { key } of this.#indexEntries(query, start, end)) {
      seen.add(key);
      if (seen.size >= atMost) return atMost;
    }
    return seen.size;
  }

  async delete(query: SeriesQuery): Promise<void> {
    await this.#track(async () => {
      const whole = query.start === undefined && query.end === undefined && query.tags === undefined;
      const { start, end } = rangeOf(query);
      const found = await this.#findSeries(query, start, end);
      const touched = new Set<number>();
      await Promise.all(
        found.flatMap((s) =>
          s.buckets.map(async (bucket) => {
            touched.add(bucket);
            const key = [query.metric, s.id, bucket];
            const partition: PartitionKey = { metric: query.metric, id: s.id, bucket, type: s.type, storage: storageOf(s.type) };
            if (whole) await Promise.all([this.#run(this.#q.deleteChunkPartition, key), this.#legacy && this.#run(this.#q.deletePartition, key)]);
            else await deleteRange(this.#io, partition, start, end, this.options.clock());
            if (whole || !(await this.#anyPoint(key))) {
              await this.#run(this.#q.deleteSeries, [query.metric, bucket, s.id, s.type]);
              await Promise.all(Object.keys(s.tags).map((name) => this.#run(this.#q.deletePosting, [query.metric, bucket, name, s.tags[name], s.id, s.type])));
            }
          }),
        ),
      );
      for (const bucket of touched) {
        if ((await this.#all(this.#q.anySeries, [query.metric, bucket])).length === 0) {
          await this.#run(this.#q.deleteBucket, [query.metric, bucket]);
        }
      }
      if ((await this.#all(this.#q.anyBucket, [query.metric])).length === 0) {
        await this.#run(this.#q.deleteName, [NAMES_PART, query.metric]);
        const pairs = new Set(found.flatMap((s) => Object.keys(s.tags).map((name) => JSON.stringify([name, s.tags[name]]))));
        await Promise.all([...pairs].map((pair) => this.#run(this.#q.deleteTagMetric, [...(JSON.parse(pair) as [string, string]), query.metric])));
      }
      this.#written.clear();
    });
  }

  /** Whether a partition (any type) holds a chunk, or a layout-2 row. */
  async #anyPoint(key: unknown[]): Promise<boolean> {
    if ((await this.#all(this.#q.anyChunk, key)).length > 0) return true;
    return this.#legacy && (await this.#all(this.#q.anyPoint, key)).length > 0;
  }

  async ping(): Promise<void> {
    await this.#ready0();
    await this.#all(this.#q.ping, []);
  }

  /**
   * `breaker_open`: 1 while no host answers (requests answer 503 at once until a probe reaches one), else 0;
   * `calls_in_flight`: writes and deletes waiting for Cassandra; `compaction_pending`: partitions waiting for (or in)
   * a background merge; `chunks_merged`: chunks merged since the store opened; `merges_failed`: background merges that
   * failed since then (their chunks kept; e.g. a replica down, see `compactionConsistency`).
   */
  async figures(): Promise<Readonly<Record<string, number>>> {
    return { breaker_open: this.#outage ? 1 : 0, calls_in_flight: this.#inFlight.size, compaction_pending: this.#compactor.pending, chunks_merged: this.#compactor.merged, merges_failed: this.#compactor.failed };
  }

  /**
   * Merges the chunks of every bucket that ended before `before` (default now), partition by partition: each series'
   * chunks of a bucket become pieces of up to 16,384 points, expired points dropped. The background sweep
   * (`compactIntervalMs`) does this for the buckets that closed last; call it to compact older data at once (after a
   * migration, an import, or with the sweep turned off).
   */
  async compact(options: { before?: number; metrics?: readonly string[] } = {}): Promise<{ partitions: number; merged: number }> {
    await this.#ready0();
    const before = options.before ?? this.options.clock();
    const totals = { partitions: 0, merged: 0 };
    for (const metric of options.metrics ?? (await this.metricNames())) {
      for (const bucket of await this.#bucketsOf(metric, Number.MIN_SAFE_INTEGER, before)) {
        if (bucket + this.options.bucketWidthMs > before) continue;
        const swept = await sweepBucket(this.#io, metric, bucket);
        totals.partitions += swept.partitions;
        totals.merged += swept.merged;
      }
    }
    return totals;
  }

  /**
   * Moves the points of a keyspace that was at layout 1 or 2 from `data_points` into chunks, a partition (a series'
   * bucket) at a time, online: a read finds each point in one or the other throughout (moved points are older than
   * every chunk, so a later overwrite still wins). Idempotent; run it again after an interruption. Then records that
   * no such points remain, so reads stop looking for them (instances opened before learn it when they restart).
   */
  async migrate(onProgress?: (moved: { partitions: number; points: number }) => void): Promise<{ partitions: number; points: number }> {
    await this.#ready0();
    if (!this.#legacy) return { partitions: 0, points: 0 };
    const moved = await migrateLegacy(this.#io, onProgress);
    this.#legacy = false;
    return moved;
  }

  #startSweeps(): void {
    const every = this.options.compactIntervalMs;
    if (every === 0 || this.options.compactionConcurrency === 0 || this.#sweeps) return;
    let running = false;
    this.#sweeps = setInterval(() => {
      if (running || this.#outage || this.#closed) return;
      running = true;
      sweepRecent(this.#io)
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'koa-kairosdb: the compaction sweep failed; it runs again at the next interval'))
        .finally(() => (running = false));
    }, every);
    this.#sweeps.unref();
  }

  /** Waits for writes in flight, then shuts down the client if the store created it. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeps);
    this.#compactor.stop();
    await Promise.allSettled([...this.#inFlight]);
    await this.#compactor.idle();
    if (this.#ownsClient) await (await this.#client.catch(() => undefined))?.shutdown?.();
  }

  async #init(): Promise<void> {
    const client = await this.#client;
    // The schema's own rows at the store's consistency: written at the driver's LOCAL_ONE, a replica that had not got
    // the row yet answered the read of another (a 3-node CI run: "has no bucket_width_ms" right after creating it).
    const meta = { prepare: true, consistency: this.options.consistency };
    if (this.options.createSchema) {
      // The driver knows the cluster's keyspaces once connected: a keyspace this store creates is said in the log.
      await (client as { connect?: () => Promise<void> }).connect?.();
      const known = (client as { metadata?: { keyspaces?: Record<string, unknown> } }).metadata?.keyspaces;
      const creating = known !== undefined && known[this.options.keyspace] === undefined;
      for (const statement of schemaStatements(this.options)) await client.execute(statement);
      if (creating) this.options.logger.info({ keyspace: this.options.keyspace, replication: this.options.replication }, `koa-kairosdb: created keyspace '${this.options.keyspace}' and its tables (createSchema: true)`);
      await client.execute(this.#q.insertMeta, ['bucket_width_ms', String(this.options.bucketWidthMs)], meta);
      await client.execute(this.#q.insertMeta, ['layout_version', LAYOUT_VERSION], meta);
    }
    let values: Map<string, string>;
    try {
      const rows = (await client.execute(this.#q.selectMeta, [], meta)).rows;
      values = new Map(rows.map((r) => [r.name as string, r.value as string]));
    } catch (error) {
      if (mapDriverError(error) !== error) throw error;
      throw new Error(`CassandraStore: the schema is missing (${this.#where}); start with createSchema: true or run the CQL that koa-kairosdb-schema prints`, { cause: error });
    }
    const width = values.get('bucket_width_ms');
    if (width === undefined) throw new Error(`CassandraStore: ${this.options.keyspace}.${this.options.tables.schemaMeta} has no bucket_width_ms; start with createSchema: true`);
    if (Number(width) !== this.options.bucketWidthMs) {
      throw new Error(`CassandraStore: the data in keyspace '${this.options.keyspace}' uses buckets of ${width} ms, not ${this.options.bucketWidthMs} ms; a bucket width cannot change under existing data`);
    }
    const layout = values.get('layout_version');
    if ((layout === '1' || layout === '2') && !this.options.createSchema) {
      throw new Error(`CassandraStore: keyspace '${this.options.keyspace}' has schema layout ${layout}; layout ${LAYOUT_VERSION} keeps points in compressed chunks${layout === '1' ? ' and adds a series index' : ''}: start once with createSchema: true to create its tables (online; the points of layout ${layout} stay readable until \`koa-kairosdb migrate\` moves them)`);
    }
    if (layout === '1') await indexLayout1(this.#io, (query, params) => this.#limiter.run(() => client.execute(query, params, this.#queryOptions())));
    if (layout === '1' || layout === '2') {
      // Its points stay in data_points, read beside the chunks until `migrate` moves them; recorded before the version.
      await client.execute(this.#q.setMeta, ['legacy_points', '1'], meta);
      await client.execute(this.#q.setMeta, ['layout_version', LAYOUT_VERSION], meta);
      values.set('legacy_points', '1');
      this.options.logger.info({ keyspace: this.options.keyspace, from: layout }, `koa-kairosdb: keyspace at layout ${LAYOUT_VERSION}; its layout-${layout} points are read beside the chunks until \`koa-kairosdb migrate\` moves them`);
    } else if (layout !== undefined && layout !== LAYOUT_VERSION) throw new Error(`CassandraStore: schema layout ${layout} is not ${LAYOUT_VERSION}; upgrade koa-kairosdb`);
    this.#legacy = values.get('legacy_points') === '1';
    this.#startSweeps();
  }

  async #ready0(): Promise<void> {
    if (this.#closed) throw new StoreUnavailableError('CassandraStore is closed');
    if (this.#outage) throw this.#outage;
    await this.init();
  }

  /** Maps a driver error; when no host answered, opens the breaker (fail fast) until a background probe reaches one. */
  #failed(error: unknown): unknown {
    const mapped = mapDriverError(error, this.#where);
    if (isNoHostAvailable(error) && mapped instanceof StoreUnavailableError && !this.#closed && !this.#outage) {
      this.options.logger.error({ err: mapped }, `koa-kairosdb: ${mapped.message}; answering 503 until a host answers`);
      this.#probe(mapped, PROBE_FIRST_MS);
    }
    return mapped;
  }

  #probe(error: StoreUnavailableError, delayMs: number): void {
    const retryAfter = Math.max(1, Math.ceil(delayMs / 1000));
    this.#outage = new StoreUnavailableError(error.message, { cause: error.cause, retryAfter });
    const timer = setTimeout(async () => {
      if (this.#closed) return;
      try {
        await this.init();
        const client = await this.#client;
        await client.execute(this.#q.ping, [], this.#queryOptions());
        this.#outage = undefined;
        this.options.logger.info({}, `koa-kairosdb: Cassandra answers again (${this.#where})`);
      } catch (failure) {
        const mapped = mapDriverError(failure, this.#where);
        this.#probe(mapped instanceof StoreUnavailableError ? mapped : error, Math.min(delayMs * 2, PROBE_MAX_MS));
      }
    }, delayMs);
    timer.unref();
  }

  async #track(work: () => Promise<void>): Promise<void> {
    await this.#ready0();
    const running = work();
    this.#inFlight.add(running);
    try {
      await running;
    } catch (error) {
      throw this.#failed(error);
    } finally {
      this.#inFlight.delete(running);
    }
  }

  /** Rows of several partitions in one UNLOGGED batch (one round trip); split in two while the server finds it too large. */
  async #writeBatch(batch: readonly Statement[]): Promise<void> {
    if (batch.length === 1) return this.#run((batch[0] as Statement).query, (batch[0] as Statement).params);
    const client = await this.#client;
    try {
      await this.#limiter.run(() => client.batch(batch as Statement[], { ...this.#queryOptions(), logged: false }));
    } catch (error) {
      if (!isBatchTooLarge(error)) throw this.#failed(error);
      const half = Math.ceil(batch.length / 2);
      await Promise.all([this.#writeBatch(batch.slice(0, half)), this.#writeBatch(batch.slice(half))]);
    }
  }

  /** Whether an index row (or every row of a series' bucket) is known written with at least this TTL. */
  #known(key: string, ttl: number): boolean {
    const known = this.#written.get(key);
    return known !== undefined && !outlives(ttl, known);
  }

  #remember(key: string, ttl: number): void {
    if (!this.#known(key, ttl)) this.#written.set(key, ttl);
  }

  async #run(query: string, params: unknown[], consistency = this.options.consistency): Promise<void> {
    const client = await this.#client;
    await this.#limiter.run(() => client.execute(query, params, { ...this.#queryOptions(), consistency })).catch((error: unknown) => {
        throw this.#failed(error);
      });
  }

  async #all(query: string, params: unknown[], consistency?: number): Promise<Row[]> {
    const rows: Row[] = [];
    for await (const page of this.#rowPages(query, params, consistency)) for (const row of page) rows.push(row);
    return rows;
  }

  /** The result of a statement page by page (`pageSize` rows), each page fetched under the concurrency limit. */
  async *#rowPages(query: string, params: unknown[], consistency = this.options.consistency): AsyncGenerator<Row[]> {
    const client = await this.#client;
    let pageState: string | undefined;
    do {
      const options = { ...this.#queryOptions(), consistency, fetchSize: this.options.pageSize, ...(pageState ? { pageState } : {}) };
      const page = await this.#limiter.run(() => client.execute(query, params, options)).catch((error: unknown) => {
        throw this.#failed(error);
      });
      pageState = page.pageState ?? undefined;
      yield page.rows;
    } while (pageState);
  }

  #queryOptions() {
    return { prepare: true, isIdempotent: true, consistency: this.options.consistency };
  }

  async #findSeries(query: SeriesQuery, start: number, end: number): Promise<FoundSeries[]> {
    const found = new Map<string, FoundSeries>();
    for await (const { bucket, key, seriesId, type, tags } of this.#indexEntries(query, start, end)) {
      let entry = found.get(key);
      if (!entry) found.set(key, (entry = { id: Buffer.from(seriesId.slice(2), 'hex'), type, tags, buckets: [] }));
      entry.buckets.push(bucket);
    }
    return [...found.values()];
  }

  /**
   * The index entries of the query's series in its range's buckets, bucket by bucket, parsed a page at a time (each
   * fetch a turn for the event loop, and every 1,024 rows: a bucket of 100,000 series parsed at once held it for 350 ms).
   */
  async *#indexEntries(query: SeriesQuery, start: number, end: number): AsyncGenerator<{ bucket: number; key: string; seriesId: string; type: string; tags: Tags }> {
    for (const bucket of await this.#bucketsOf(query.metric, start, end)) {
      for await (const rows of this.#indexRows(query, bucket)) {
        const entries = [];
        for (let i = 0; i < rows.length; i++) {
          const json = JSON.parse((rows[i] as Row)['[json]'] as string) as { series_id: string; type: string; tags: Record<string, string> };
          const tags = tagsFrom(Object.entries(json.tags));
          if (matchesTags(tags, query.tags)) entries.push({ bucket, key: `${json.series_id}\u0000${json.type}`, seriesId: json.series_id, type: json.type, tags });
          // A page of 5,000 rows parsed at once held the loop ~55 ms: a turn every 1,024.
          if ((i & 1023) === 1023) await new Promise((resolve) => setImmediate(resolve));
        }
        yield* entries;
      }
    }
  }

  /** The metric's buckets in a time range, in time order. */
  async #bucketsOf(metric: string, start: number, end: number): Promise<number[]> {
    const width = this.options.bucketWidthMs;
    const rows = await this.#all(this.#q.selectBuckets, [metric, bucketOf(start, width), bucketOf(end, width)]);
    return rows.map((r) => toMillis(r.bucket)).sort((a, b) => a - b);
  }

  /** A bucket's index rows for a query: with a tag filter the postings of its tag with the fewest listed values, else every series. */
  async *#indexRows(query: SeriesQuery, bucket: number): AsyncGenerator<Row[]> {
    const posting = postingOf(query.tags);
    if (!posting) return yield* this.#rowPages(this.#q.selectSeries, [query.metric, bucket]);
    // The first page of every listed value fetched at once (as the whole postings were before they were paged).
    const values = posting.values.map((value) => this.#rowPages(this.#q.selectPostings, [query.metric, bucket, posting.name, value]));
    const firsts = await Promise.all(values.map((pages) => pages.next()));
    for (let i = 0; i < values.length; i++) {
      const first = firsts[i] as IteratorResult<Row[]>;
      if (first.done) continue;
      yield first.value;
      yield* values[i] as AsyncGenerator<Row[]>;
    }
  }

  /** A series' points, bucket by bucket, merged from its chunks; the next bucket fetched while one is answered. */
  async *#pages(metric: string, series: FoundSeries, range: ReadRange, first: Promise<Loaded>): AsyncGenerator<PointPage> {
    const buckets = inOrder(series, range.desc);
    let next = first;
    for (let b = 0; b < buckets.length; b++) {
      const loaded = await next;
      if (b + 1 < buckets.length) next = quiet(this.#load(metric, series, buckets[b + 1] as number, range));
      yield* mergedPages(loaded.rows, loaded.legacy, { ...range, now: this.options.clock() });
    }
  }

  /** A bucket's chunk rows of a series (and layout 2's points of it, until migrated). */
  async #load(metric: string, series: FoundSeries, bucket: number, range: ReadRange): Promise<Loaded> {
    const key: PartitionKey = { metric, id: series.id, bucket, type: series.type, storage: storageOf(series.type) };
    const [rows, legacy] = await Promise.all([chunkRows(this.#io, key), legacyPoints(this.#io, key, range.start, range.end, this.options.clock())]);
    return { rows, legacy };
  }
}

interface ReadRange {
  start: number;
  end: number;
  desc: boolean;
  expiry: boolean;
}

interface Loaded {
  rows: ChunkRow[];
  legacy: Points | undefined;
}


/**
 * Slices of one write whose statements may be in flight at once (~1,000 new series, ~6,000 index statements): a
 * request of 10,000 new series sent whole kept ~60,000 statements alive until the node answered them, promoted to
 * the old generation; scavenges of 60–213 ms and marking followed.
 */
const IN_FLIGHT_SLICES = 4;

/** Series whose first bucket a read fetches ahead. */
const READ_AHEAD_SERIES = 8;

/** A series' buckets in the direction of the read. */
function inOrder(series: FoundSeries, desc: boolean): number[] {
  return desc ? [...series.buckets].reverse() : series.buckets;
}

/** The promise itself, marked handled: a fetch ahead that fails is reported when (if) it is awaited. */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** The filtered tag whose postings a read takes: the one with the fewest listed values (none without a filter). */
function postingOf(filter: TagFilter | undefined): { name: string; values: string[] } | undefined {
  let best: { name: string; values: string[] } | undefined;
  for (const name of Object.keys(filter ?? {})) {
    const values = [...new Set((filter as TagFilter)[name] ?? [])];
    if (values.length > 0 && (!best || values.length < best.values.length)) best = { name, values };
  }
  return best;
}

async function loadDriver(): Promise<typeof import('cassandra-driver')> {
  return (await importPeer('cassandra-driver', () => import('cassandra-driver'))).default as never;
}

