import type { CassandraClient, Row } from '../src/cassandra.js';
import { resolveCassandraOptions } from '../src/stores/cassandra/options.js';
import { queries } from '../src/stores/cassandra/queries.js';

interface Cell<T> {
  value: T;
  expires: number;
}

const long = (n: number) => ({ toNumber: () => n });

/**
 * An in-memory stand-in for a Cassandra cluster that understands exactly the statements the
 * store prepares (matched by text), with TTLs, clustering order, range deletes and paging, and
 * answers the way cassandra-driver does (timestamps as Date, bigint as Long, blobs as Buffer).
 */
export class CqlFake implements CassandraClient {
  now: number;
  readonly #q;
  readonly #points = new Map<string, Map<string, Cell<Row>>>();
  readonly #series = new Map<string, Map<string, Cell<Row>>>();
  readonly #buckets = new Map<string, Map<number, Cell<true>>>();
  readonly #names = new Map<string, Map<string, Cell<true>>>();
  readonly #meta = new Map<string, string>();
  readonly #metadata = new Map<string, Map<string, Cell<Row>>>();
  readonly #postings = new Map<string, Map<string, Cell<Row>>>();
  readonly #tagMetrics = new Map<string, Map<string, Cell<true>>>();
  readonly #chunks = new Map<string, Map<string, Cell<Row>>>();
  readonly #leases = new Map<string, Cell<Buffer>>();

  constructor(now: number, keyspace = 'kairosdb') {
    this.now = now;
    this.#q = queries(resolveCassandraOptions({ keyspace }));
  }

  async batch(statements: { query: string; params: unknown[] }[]): Promise<unknown> {
    for (const s of statements) await this.execute(s.query, s.params);
    return {};
  }

  async execute(query: string, params: unknown[] = [], options: { fetchSize?: number; pageState?: string } = {}): Promise<{ rows: Row[]; pageState?: string | null }> {
    const q = this.#q;
    const p = params;
    const expires = (ttl: unknown) => ((ttl as number) > 0 ? this.now + (ttl as number) * 1000 : Infinity);
    if (query.startsWith('CREATE')) return { rows: [] };
    const withTtl = Object.values(q.selectPointsTtl).find((text) => query === text || query === `${text} ORDER BY ts DESC`);
    if (withTtl) {
      const [start, end] = [p[3] as number, p[4] as number];
      const desc = query.endsWith('DESC') ? -1 : 1;
      const rows = [...(this.#points.get(key(p[0], p[1], p[2])) ?? [])]
        .filter(([, cell]) => cell.expires > this.now)
        .sort((x, y) => (x[0] < y[0] ? -desc : desc))
        .map(([, cell]): Row => ({ ...cell.value, ttl: cell.expires === Infinity ? null : Math.ceil((cell.expires - this.now) / 1000) }))
        .filter((row) => (row.ts as Date).getTime() >= start && (row.ts as Date).getTime() <= end);
      return this.#page(rows, options);
    }
    switch (query) {
      case q.insertChunk: {
        const [metric, id, bucket, type, seq, writer, first, last, count, data, ttl] = p as [string, Buffer, number, string, number, Buffer, number, number, number, Uint8Array, number];
        const row: Row = { seq: long(seq), writer: Buffer.from(writer), first: new Date(first), last: new Date(last), count, data: Buffer.from(data) };
        this.#table(this.#chunks, key(metric, id, bucket)).set(chunkKey(type, seq, writer), { value: row, expires: expires(ttl) });
        return { rows: [] };
      }
      case q.selectChunks:
      case q.selectChunksTtl:
      case q.selectChunksFrom: {
        const from = query === q.selectChunksFrom ? chunkKey(p[3] as string, p[4] as number, p[5] as Buffer) : '';
        const rows = [...(this.#chunks.get(key(p[0], p[1], p[2])) ?? [])]
          .filter(([k, cell]) => cell.expires > this.now && k.startsWith(`${p[3]}|`) && k >= from)
          .sort((x, y) => (x[0] < y[0] ? -1 : 1))
          .map(([, cell]): Row => (query === q.selectChunks ? cell.value : { ...cell.value, ttl: cell.expires === Infinity ? null : Math.ceil((cell.expires - this.now) / 1000) }));
        return this.#page(rows, options);
      }
      case q.deleteChunk:
        this.#chunks.get(key(p[0], p[1], p[2]))?.delete(chunkKey(p[3] as string, p[4] as number, p[5] as Buffer));
        return { rows: [] };
      case q.deleteChunkPartition:
        this.#chunks.delete(key(p[0], p[1], p[2]));
        return { rows: [] };
      case q.anyChunk:
        return { rows: this.#live(this.#chunks.get(key(p[0], p[1], p[2]))).slice(0, 1).map(([, row]) => row) };
      case q.takeLease: {
        const held = this.#leases.get(p[0] as string);
        if (held && held.expires > this.now) return { rows: [{ '[applied]': false, holder: held.value }] };
        this.#leases.set(p[0] as string, { value: p[1] as Buffer, expires: expires(p[2]) });
        return { rows: [{ '[applied]': true }] };
      }
      case q.sharedInsert:
      case q.sharedUpdate:
      case q.sharedDelete: {
        const name = (query === q.sharedUpdate ? p[1] : p[0]) as string;
        const held = this.#leases.get(name);
        const current = held && held.expires > this.now ? held.value : undefined;
        const expected = query === q.sharedInsert ? undefined : ((query === q.sharedUpdate ? p[2] : p[1]) as Buffer);
        if (expected === undefined ? current !== undefined : current === undefined || !current.equals(expected)) return { rows: [{ '[applied]': false }] };
        if (query === q.sharedDelete) this.#leases.delete(name);
        else this.#leases.set(name, { value: (query === q.sharedUpdate ? p[0] : p[1]) as Buffer, expires: Infinity });
        return { rows: [{ '[applied]': true }] };
      }
      case q.markDone:
        this.#leases.set(p[0] as string, { value: p[1] as Buffer, expires: expires(p[2]) });
        return { rows: [] };
      case q.selectLease: {
        const held = this.#leases.get(p[0] as string);
        return { rows: held && held.expires > this.now ? [{ holder: held.value }] : [] };
      }
      case q.insertSeries: {
        const [metric, bucket, id, type, tags, ttl] = p as [string, number, Buffer, string, Buffer | Record<string, string>, number];
        const json = JSON.stringify({ series_id: `0x${id.toString('hex')}`, type, tags: mapOf(tags) });
        this.#table(this.#series, key(metric, bucket)).set(`${id.toString('hex')}|${type}`, { value: { '[json]': json }, expires: expires(ttl) });
        return { rows: [] };
      }
      case q.insertPosting: {
        const [metric, bucket, name, value, id, type, tags, ttl] = p as [string, number, string, string, Buffer, string, Buffer | Record<string, string>, number];
        const json = JSON.stringify({ series_id: `0x${id.toString('hex')}`, type, tags: mapOf(tags) });
        this.#table(this.#postings, key(metric, bucket, name, value)).set(`${id.toString('hex')}|${type}`, { value: { '[json]': json }, expires: expires(ttl) });
        return { rows: [] };
      }
      case q.selectPostings:
        return this.#page(this.#live(this.#postings.get(key(p[0], p[1], p[2], p[3]))).sort().map(([, cell]) => cell), options);
      case q.deletePosting:
        this.#postings.get(key(p[0], p[1], p[2], p[3]))?.delete(`${(p[4] as Buffer).toString('hex')}|${p[5]}`);
        return { rows: [] };
      case q.insertTagMetric:
        this.#table(this.#tagMetrics, key(p[0], p[1])).set(p[2] as string, { value: true, expires: expires(p[3]) });
        return { rows: [] };
      case q.selectTagMetrics:
        return this.#page(this.#live(this.#tagMetrics.get(key(p[0], p[1]))).map(([metric]) => metric).filter((m) => m >= (p[2] as string)).sort().map((metric) => ({ metric })), options);
      case q.deleteTagMetric:
        this.#tagMetrics.get(key(p[0], p[1]))?.delete(p[2] as string);
        return { rows: [] };
      case q.setMeta:
        this.#meta.set(p[0] as string, p[1] as string);
        return { rows: [] };
      case q.selectAllBuckets:
        return this.#page(this.#live(this.#buckets.get(p[0] as string)).sort((x, y) => x[0] - y[0]).map(([b]) => ({ bucket: new Date(b) })), options);
      case q.selectSeriesTtl: {
        const rows = this.#liveCells(this.#series.get(key(p[0], p[1]))).map((cell) => {
          const json = JSON.parse(cell.value['[json]'] as string) as { series_id: string; type: string; tags: Record<string, string> };
          return { series_id: Buffer.from(json.series_id.slice(2), 'hex'), type: json.type, tags: json.tags, ttl: cell.expires === Infinity ? null : Math.ceil((cell.expires - this.now) / 1000) };
        });
        return this.#page(rows, options);
      }
      case q.insertBucket:
        this.#table(this.#buckets, p[0] as string).set(p[1] as number, { value: true, expires: expires(p[2]) });
        return { rows: [] };
      case q.insertName:
        this.#table(this.#names, p[0] as string).set(p[1] as string, { value: true, expires: expires(p[2]) });
        return { rows: [] };
      case q.insertMeta:
        if (!this.#meta.has(p[0] as string)) this.#meta.set(p[0] as string, p[1] as string);
        return { rows: [] };
      case q.selectMeta:
      case q.ping:
        return { rows: [...this.#meta].map(([name, value]) => ({ name, value })) };
      case q.selectBuckets:
        return this.#page(this.#live(this.#buckets.get(p[0] as string)).filter(([b]) => b >= (p[1] as number) && b <= (p[2] as number)).sort((x, y) => x[0] - y[0]).map(([b]) => ({ bucket: new Date(b) })), options);
      case q.anyBucket:
        return { rows: this.#live(this.#buckets.get(p[0] as string)).slice(0, 1).map(([b]) => ({ bucket: new Date(b) })) };
      case q.selectSeries:
        return this.#page(this.#live(this.#series.get(key(p[0], p[1]))).sort().map(([, cell]) => cell), options);
      case q.anySeries:
        return { rows: this.#live(this.#series.get(key(p[0], p[1]))).slice(0, 1).map(([, row]) => row) };
      case q.anyPoint:
        return { rows: this.#live(this.#points.get(key(p[0], p[1], p[2]))).slice(0, 1).map(([, row]) => row) };
      case q.selectNames:
        return this.#page(this.#live(this.#names.get(p[0] as string)).map(([metric]) => metric).filter((m) => m >= (p[1] as string)).sort().map((metric) => ({ metric })), options);
      case q.deleteRange: {
        const partition = this.#points.get(key(p[0], p[1], p[2]));
        for (const [k, cell] of partition ?? []) {
          const ts = (cell.value.ts as Date).getTime();
          if (ts >= (p[3] as number) && ts <= (p[4] as number)) partition?.delete(k);
        }
        return { rows: [] };
      }
      case q.deletePartition:
        this.#points.delete(key(p[0], p[1], p[2]));
        return { rows: [] };
      case q.deleteSeries:
        this.#series.get(key(p[0], p[1]))?.delete(`${(p[2] as Buffer).toString('hex')}|${p[3]}`);
        return { rows: [] };
      case q.deleteBucket:
        this.#buckets.get(p[0] as string)?.delete(p[1] as number);
        return { rows: [] };
      case q.metadataSet:
        this.#table(this.#metadata, p[0] as string).set(`${p[1]}\u0000${p[2]}`, { value: { service_key: p[1], key: p[2], value: p[3] }, expires: Infinity });
        return { rows: [] };
      case q.metadataGet: {
        const row = this.#metadata.get(p[0] as string)?.get(`${p[1]}\u0000${p[2]}`);
        return { rows: row ? [row.value] : [] };
      }
      case q.metadataServiceKeys:
      case q.metadataKeys: {
        const rows = this.#live(this.#metadata.get(p[0] as string)).sort((x, y) => (x[0] < y[0] ? -1 : 1)).map(([, row]) => row);
        return this.#page(query === q.metadataKeys ? rows.filter((row) => row.service_key === p[1]) : rows, options);
      }
      case q.metadataCount:
        return this.#page(this.#live(this.#metadata.get(p[0] as string)).slice(0, p[1] as number).map(([, row]) => row), options);
      case q.metadataDelete:
        this.#metadata.get(p[0] as string)?.delete(`${p[1]}\u0000${p[2]}`);
        return { rows: [] };
      case q.deleteName:
        this.#names.get(p[0] as string)?.delete(p[1] as string);
        return { rows: [] };
      default:
        throw Object.assign(new Error(`CqlFake does not know: ${query}`), { name: 'ResponseError', code: 0x2000 });
    }
  }

  /**
   * A point of layout 2's `data_points` (the row a store before layout 3 wrote), to try reading and migrating them.
   * `storage` names the value column.
   */
  legacyPoint(metric: string, id: Buffer, bucket: number, ts: number, type: string, storage: 'long' | 'double' | 'string' | 'bytes', value: unknown, ttl = 0): void {
    const row: Row = { ts: new Date(ts), type, long_value: null, double_value: null, string_value: null, blob_value: null };
    row[`${storage === 'bytes' ? 'blob' : storage}_value`] = storage === 'long' ? long(value as number) : value;
    this.#table(this.#points, key(metric, id, bucket)).set(`${pad(ts)}|${type}`, { value: row, expires: ttl > 0 ? this.now + ttl * 1000 : Infinity });
  }

  /** Records a layout version, as a keyspace written by an earlier version. */
  asLayout(version: string): void {
    this.#meta.set('layout_version', version);
    this.#meta.delete('legacy_points');
  }

  /** Drops the series index and records layout 1, as a keyspace written before the index was. */
  asLayout1(): void {
    this.#postings.clear();
    this.#tagMetrics.clear();
    this.#meta.set('layout_version', '1');
  }

  #table<K, V>(tables: Map<string, Map<K, V>>, name: string): Map<K, V> {
    let table = tables.get(name);
    if (!table) tables.set(name, (table = new Map()));
    return table;
  }

  #live<K, V>(table: Map<K, Cell<V>> | undefined): [K, V][] {
    return [...(table ?? [])].filter(([, cell]) => cell.expires > this.now).map(([k, cell]) => [k, cell.value]);
  }

  #liveCells<K, V>(table: Map<K, Cell<V>> | undefined): Cell<V>[] {
    return [...(table ?? []).values()].filter((cell) => cell.expires > this.now);
  }

  #page(rows: Row[], options: { fetchSize?: number; pageState?: string }): { rows: Row[]; pageState: string | null } {
    const size = options.fetchSize ?? 5000;
    const from = options.pageState ? Number(options.pageState) : 0;
    const next = from + size;
    return { rows: rows.slice(from, next), pageState: next < rows.length ? String(next) : null };
  }
}

/** The clustering key of a chunk: type, then write order (seq exact and sortable, writer as hex). */
const chunkKey = (type: string, seq: number, writer: Buffer) => `${type}|${pad(seq)}|${writer.toString('hex')}`;
/** A clustering key that sorts as the timestamp does, negative ones included (exact: in BigInt, past 2^53). */
const pad = (ts: number) => (BigInt(ts) + 2n ** 63n).toString().padStart(20, '0');
function key(...parts: unknown[]): string {
  return parts.map((part) => (Buffer.isBuffer(part) ? part.toString('hex') : part instanceof Date ? String(part.getTime()) : String(part))).join('|');
}

/** A `map<text, text>` bound value as Cassandra reads it: an object, or the protocol's bytes (int32 count, then int32-length UTF-8 keys and values). */
function mapOf(tags: Buffer | Record<string, string>): Record<string, string> {
  if (!Buffer.isBuffer(tags)) return Object.fromEntries(Object.keys(tags).map((k) => [k, tags[k] as string]));
  const out: Record<string, string> = {};
  let at = 4;
  const text = () => {
    const n = tags.readInt32BE(at);
    const s = tags.toString('utf8', at + 4, at + 4 + n);
    at += 4 + n;
    return s;
  };
  for (let i = tags.readInt32BE(0); i > 0; i--) {
    const key = text();
    Object.defineProperty(out, key, { value: text(), enumerable: true, writable: true, configurable: true });
  }
  if (at !== tags.length) throw new Error(`map value: ${tags.length - at} bytes left over`);
  return out;
}
