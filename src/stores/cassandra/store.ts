import type { MetadataStore, PointPage, SeriesQuery, SeriesRead, SeriesWrite, Store, StoreCapabilities, TagFilter, Tags } from '../../store-api/contract.js';
import { importPeer } from '../../optional-peer.js';
import { fromDriverBytes } from '../../store-api/bytes.js';
import { inNameOrder } from '../../store-api/names.js';
import { matchesTags, rangeOf, tagsFrom } from '../../store-api/series-key.js';
import { StoreUnavailableError } from '../../store-api/unavailable.js';
import type { StorageKind, StoredValue } from '../../types/value-type.js';
import { isBatchTooLarge, isNoHostAvailable, mapDriverError } from './errors.js';
import { bucketOf } from './keys.js';
import { Limiter } from './limiter.js';
import { Lru } from './lru.js';
import { driverOptions, resolveCassandraOptions, type CassandraClient, type CassandraStoreOptions, type ResolvedCassandraOptions, type Row } from './options.js';
import { chunk, planWrite, type IndexWrite, type Statement } from './plan.js';
import { NAMES_PART, queries, VALUE_COLUMN, type Queries } from './queries.js';
import { LAYOUT_VERSION, schemaStatements } from './schema.js';
import { outlives } from './ttl.js';

interface FoundSeries {
  id: Buffer;
  type: string;
  tags: Tags;
  buckets: number[];
}

const BUILT_IN_STORAGE = new Set<string>(['long', 'double', 'string']);
/** First and longest wait between probes while no host answers. */
const PROBE_FIRST_MS = 500;
const PROBE_MAX_MS = 5000;

/**
 * The Cassandra store: bucketed partitions, single-partition UNLOGGED batches, idempotent prepared writes.
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
      for (const slice of slices(series)) {
        if (sent.length > 0) await new Promise((resolve) => setImmediate(resolve));
        if (failure) break;
        const plan = planWrite(slice, { ...this.options, queries: this.#q, now: this.options.clock() });
        expired += plan.expired;
        for (const statements of plan.partitions) for (const batch of chunk(statements, this.options.batchSize)) send(this.#writeBatch(batch));
        for (const row of plan.index) {
          const known = this.#written.get(row.key);
          if (known === undefined || outlives(row.ttl, known)) send(this.#writeIndex(row));
        }
      }
      await Promise.all(sent);
      if (expired > 0) this.options.logger.warn({ expired }, 'koa-kairosdb: dropped points whose aligned TTL had already expired');
      if (failure) throw failure.error;
    });
  }

  async *read(query: SeriesQuery): AsyncIterable<SeriesRead> {
    await this.#ready0();
    const { start, end } = rangeOf(query);
    for (const found of await this.#findSeries(query, start, end)) {
      const pages = this.#pages(query.metric, found, { start, end, desc: query.order === 'desc', expiry: query.expiry === true });
      const first = await pages.next();
      if (first.done) continue;
      yield {
        metric: query.metric,
        tags: found.tags,
        type: found.type,
        storage: storageOf(found.type),
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
    const alive = await Promise.all(listed.map(async (metric) => (await this.#all(this.#q.anyBucket, [metric])).length > 0));
    return inNameOrder(listed.filter((_, i) => alive[i]));
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
            if (whole) await this.#run(this.#q.deletePartition, key);
            else await this.#run(this.#q.deleteRange, [...key, start, end]);
            if (whole || (await this.#all(this.#q.anyPoint, key)).length === 0) {
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

  async ping(): Promise<void> {
    await this.#ready0();
    await this.#all(this.#q.ping, []);
  }

  /**
   * `breaker_open`: 1 while no host answers (requests answer 503 at once until a probe reaches one), else 0;
   * `calls_in_flight`: writes and deletes waiting for Cassandra.
   */
  async figures(): Promise<Readonly<Record<string, number>>> {
    return { breaker_open: this.#outage ? 1 : 0, calls_in_flight: this.#inFlight.size };
  }

  /** Waits for writes in flight, then shuts down the client if the store created it. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    if (this.#ownsClient) await (await this.#client.catch(() => undefined))?.shutdown?.();
  }

  async #init(): Promise<void> {
    const client = await this.#client;
    if (this.options.createSchema) {
      // The driver knows the cluster's keyspaces once connected: a keyspace this store creates is said in the log.
      await (client as { connect?: () => Promise<void> }).connect?.();
      const known = (client as { metadata?: { keyspaces?: Record<string, unknown> } }).metadata?.keyspaces;
      const creating = known !== undefined && known[this.options.keyspace] === undefined;
      for (const statement of schemaStatements(this.options)) await client.execute(statement);
      if (creating) this.options.logger.info({ keyspace: this.options.keyspace, replication: this.options.replication }, `koa-kairosdb: created keyspace '${this.options.keyspace}' and its tables (createSchema: true)`);
      await client.execute(this.#q.insertMeta, ['bucket_width_ms', String(this.options.bucketWidthMs)], { prepare: true });
      await client.execute(this.#q.insertMeta, ['layout_version', LAYOUT_VERSION], { prepare: true });
    }
    let meta: Map<string, string>;
    try {
      const rows = (await client.execute(this.#q.selectMeta, [], { prepare: true })).rows;
      meta = new Map(rows.map((r) => [r.name as string, r.value as string]));
    } catch (error) {
      if (mapDriverError(error) !== error) throw error;
      throw new Error(`CassandraStore: the schema is missing (${this.#where}); start with createSchema: true or run the CQL that koa-kairosdb-schema prints`, { cause: error });
    }
    const width = meta.get('bucket_width_ms');
    if (width === undefined) throw new Error(`CassandraStore: ${this.options.keyspace}.${this.options.tables.schemaMeta} has no bucket_width_ms; start with createSchema: true`);
    if (Number(width) !== this.options.bucketWidthMs) {
      throw new Error(`CassandraStore: the data in keyspace '${this.options.keyspace}' uses buckets of ${width} ms, not ${this.options.bucketWidthMs} ms; a bucket width cannot change under existing data`);
    }
    const layout = meta.get('layout_version');
    if (layout === '1' && this.options.createSchema) await this.#indexLayout1(client);
    else if (layout === '1') throw new Error(`CassandraStore: keyspace '${this.options.keyspace}' has schema layout 1, without the series index of layout ${LAYOUT_VERSION}; start once with createSchema: true to create and fill it (online)`);
    else if (layout !== undefined && layout !== LAYOUT_VERSION) throw new Error(`CassandraStore: schema layout ${layout} is not ${LAYOUT_VERSION}; upgrade koa-kairosdb`);
  }

  /**
   * Fills the series index of a keyspace written in layout 1 (every series row of every bucket of every metric gets
   * its postings, with the row's TTL), then records layout 2. Idempotent: instances doing it at once write the same rows.
   */
  async #indexLayout1(client: CassandraClient): Promise<void> {
    const { logger } = this.options;
    logger.info({ keyspace: this.options.keyspace }, 'koa-kairosdb: building the series index of a layout-1 keyspace (layout 2)');
    const run = (query: string, params: unknown[]) => this.#limiter.run(() => client.execute(query, params, this.#queryOptions()));
    let series = 0;
    // Every page of each listing (a statement answers its first page only: 5,000 rows).
    for (const { metric } of (await this.#all(this.#q.selectNames, [NAMES_PART, ''])) as { metric: string }[]) {
      for (const { bucket } of (await this.#all(this.#q.selectAllBuckets, [metric])) as { bucket: Date }[]) {
        for await (const rows of this.#rowPages(this.#q.selectSeriesTtl, [metric, bucket])) {
          for (const row of rows) {
            const tags = row.tags as Record<string, string>;
            const ttl = Number(row.ttl ?? 0);
            await Promise.all(Object.keys(tags).flatMap((name) => [run(this.#q.insertPosting, [metric, bucket, name, tags[name], row.series_id, row.type, tags, ttl]), run(this.#q.insertTagMetric, [name, tags[name], metric, ttl])]));
            series++;
          }
        }
      }
    }
    await run(this.#q.setMeta, ['layout_version', LAYOUT_VERSION]);
    logger.info({ keyspace: this.options.keyspace, series }, 'koa-kairosdb: series index built');
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

  async #writeBatch(batch: Statement[]): Promise<void> {
    if (batch.length === 1) return this.#run((batch[0] as Statement).query, (batch[0] as Statement).params);
    const client = await this.#client;
    try {
      await this.#limiter.run(() => client.batch(batch, { ...this.#queryOptions(), logged: false }));
    } catch (error) {
      if (!isBatchTooLarge(error)) throw error;
      const half = Math.ceil(batch.length / 2);
      await Promise.all([this.#writeBatch(batch.slice(0, half)), this.#writeBatch(batch.slice(half))]);
    }
  }

  async #writeIndex(row: IndexWrite): Promise<void> {
    await this.#run(row.query, row.params);
    const known = this.#written.get(row.key);
    if (known === undefined || outlives(row.ttl, known)) this.#written.set(row.key, row.ttl);
  }

  async #run(query: string, params: unknown[]): Promise<void> {
    const client = await this.#client;
    await this.#limiter.run(() => client.execute(query, params, this.#queryOptions())).catch((error: unknown) => {
        throw this.#failed(error);
      });
  }

  async #all(query: string, params: unknown[]): Promise<Row[]> {
    const rows: Row[] = [];
    for await (const page of this.#rowPages(query, params)) for (const row of page) rows.push(row);
    return rows;
  }

  /** The result of a statement page by page (`pageSize` rows), each page fetched under the concurrency limit. */
  async *#rowPages(query: string, params: unknown[]): AsyncGenerator<Row[]> {
    const client = await this.#client;
    let pageState: string | undefined;
    do {
      const options = { ...this.#queryOptions(), fetchSize: this.options.pageSize, ...(pageState ? { pageState } : {}) };
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
   * fetch a turn for the event loop: a bucket of 100,000 series parsed at once held it for 350 ms).
   */
  async *#indexEntries(query: SeriesQuery, start: number, end: number): AsyncGenerator<{ bucket: number; key: string; seriesId: string; type: string; tags: Tags }> {
    for (const bucket of await this.#bucketsOf(query.metric, start, end)) {
      for await (const rows of this.#indexRows(query, bucket)) {
        const entries = [];
        for (const row of rows) {
          const json = JSON.parse(row['[json]'] as string) as { series_id: string; type: string; tags: Record<string, string> };
          const tags = tagsFrom(Object.entries(json.tags));
          if (matchesTags(tags, query.tags)) entries.push({ bucket, key: `${json.series_id}\u0000${json.type}`, seriesId: json.series_id, type: json.type, tags });
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

  /** A series' points, bucket by bucket; with `expiry`, each point's expiry from its remaining TTL. */
  async *#pages(metric: string, series: FoundSeries, { start, end, desc, expiry }: { start: number; end: number; desc: boolean; expiry: boolean }): AsyncGenerator<PointPage> {
    const storage = storageOf(series.type);
    const column = VALUE_COLUMN[storage];
    const withTtl = expiry && `${this.#q.selectPointsTtl[storage]}${desc ? ' ORDER BY ts DESC' : ''}`;
    const select = withTtl || (desc ? this.#q.selectPointsDesc : this.#q.selectPoints);
    for (const bucket of desc ? [...series.buckets].reverse() : series.buckets) {
      for await (const rows of this.#rowPages(select, [metric, series.id, bucket, start, end])) {
        const now = this.options.clock();
        const timestamps: number[] = [];
        const values: StoredValue[] = [];
        const expires: number[] = [];
        for (const row of rows) {
          if (row.type !== series.type) continue;
          timestamps.push(toMillis(row.ts));
          values.push(fromDriver(row[column], storage));
          if (expiry) expires.push(row.ttl == null ? 0 : now + (row.ttl as number) * 1000);
        }
        if (timestamps.length > 0) yield expiry ? { timestamps, values, expires } : { timestamps, values };
      }
    }
  }
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

/** How a type's values are kept: the built-ins in their own column, every other type as bytes. */
function storageOf(type: string): StorageKind {
  return BUILT_IN_STORAGE.has(type) ? (type as StorageKind) : 'bytes';
}

function toMillis(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  return Number(value);
}

function fromDriver(value: unknown, storage: StorageKind): StoredValue {
  if (storage === 'bytes') return fromDriverBytes(value);
  if (storage === 'string') return value as string;
  if (storage === 'long' && typeof value === 'object' && value !== null) return (value as { toNumber(): number }).toNumber();
  return Number(value);
}

async function loadDriver(): Promise<typeof import('cassandra-driver')> {
  return (await importPeer('cassandra-driver', () => import('cassandra-driver'))).default as never;
}

/** Points, and series, a write plans and sends before it gives the event loop a turn (~20 ms of new series). */
const SLICE_POINTS = 2000;
const SLICE_SERIES = 250;

/** A write's series in slices of about SLICE_POINTS points or SLICE_SERIES series (a series is never split). */
function* slices(series: readonly SeriesWrite[]): Generator<readonly SeriesWrite[]> {
  let from = 0;
  let points = 0;
  for (let i = 0; i < series.length; i++) {
    points += (series[i] as SeriesWrite).timestamps.length;
    if (points >= SLICE_POINTS || i + 1 - from >= SLICE_SERIES) {
      yield series.slice(from, i + 1);
      from = i + 1;
      points = 0;
    }
  }
  if (from < series.length) yield series.slice(from);
}
