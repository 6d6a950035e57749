import type { StorageKind } from '../../types/value-type.js';
import type { ResolvedCassandraOptions } from './options.js';

/** The value column of each storage kind. */
export const VALUE_COLUMN: Record<StorageKind, string> = {
  long: 'long_value',
  double: 'double_value',
  string: 'string_value',
  bytes: 'blob_value',
};

/** Every CQL statement the store runs, for its keyspace and table names. */
export function queries({ keyspace: ks, tables: t }: ResolvedCassandraOptions) {
  const partition = 'metric = ? AND series_id = ? AND bucket = ?';
  const selectTtl = (column: string) => `SELECT ts, type, ${column}, TTL(${column}) AS ttl FROM ${ks}.${t.dataPoints} WHERE ${partition} AND ts >= ? AND ts <= ?`;
  const chunkColumns = 'seq, writer, first, last, data';
  return {
    insertChunk: `INSERT INTO ${ks}.${t.chunks} (metric, series_id, bucket, type, seq, writer, first, last, count, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
    /** A series' chunks of one type in a bucket, in write order. */
    selectChunks: `SELECT ${chunkColumns} FROM ${ks}.${t.chunks} WHERE ${partition} AND type = ?`,
    /** The same with each cell's remaining TTL (seconds; null: never expires). */
    selectChunksTtl: `SELECT ${chunkColumns}, TTL(data) AS ttl FROM ${ks}.${t.chunks} WHERE ${partition} AND type = ?`,
    /** The chunks written from a key on: a tail of the partition's write order, for compaction. */
    selectChunksFrom: `SELECT ${chunkColumns}, TTL(data) AS ttl FROM ${ks}.${t.chunks} WHERE ${partition} AND type = ? AND (seq, writer) >= (?, ?)`,
    deleteChunk: `DELETE FROM ${ks}.${t.chunks} WHERE ${partition} AND type = ? AND seq = ? AND writer = ?`,
    deleteChunkPartition: `DELETE FROM ${ks}.${t.chunks} WHERE ${partition}`,
    anyChunk: `SELECT seq FROM ${ks}.${t.chunks} WHERE ${partition} LIMIT 1`,
    /** Leases of background work (compaction of a bucket): a lightweight transaction, so one instance holds each. */
    takeLease: `INSERT INTO ${ks}.${t.leases} (name, holder) VALUES (?, ?) IF NOT EXISTS USING TTL ?`,
    selectLease: `SELECT holder FROM ${ks}.${t.leases} WHERE name = ?`,
    /** `coordination`'s values, in the same table without a TTL: each change a lightweight transaction. */
    sharedInsert: `INSERT INTO ${ks}.${t.leases} (name, holder) VALUES (?, ?) IF NOT EXISTS`,
    sharedUpdate: `UPDATE ${ks}.${t.leases} SET holder = ? WHERE name = ? IF holder = ?`,
    sharedDelete: `DELETE FROM ${ks}.${t.leases} WHERE name = ? IF holder = ?`,
    /** A mark of work done (a bucket swept), not a lease: a plain write. */
    markDone: `INSERT INTO ${ks}.${t.leases} (name, holder) VALUES (?, ?) USING TTL ?`,
    insertSeries: `INSERT INTO ${ks}.${t.series} (metric, bucket, series_id, type, tags) VALUES (?, ?, ?, ?, ?) USING TTL ?`,
    insertPosting: `INSERT INTO ${ks}.${t.seriesTags} (metric, bucket, name, value, series_id, type, tags) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
    selectPostings: `SELECT JSON series_id, type, tags FROM ${ks}.${t.seriesTags} WHERE metric = ? AND bucket = ? AND name = ? AND value = ?`,
    deletePosting: `DELETE FROM ${ks}.${t.seriesTags} WHERE metric = ? AND bucket = ? AND name = ? AND value = ? AND series_id = ? AND type = ?`,
    insertTagMetric: `INSERT INTO ${ks}.${t.tagMetrics} (name, value, metric) VALUES (?, ?, ?) USING TTL ?`,
    selectTagMetrics: `SELECT metric FROM ${ks}.${t.tagMetrics} WHERE name = ? AND value = ? AND metric >= ?`,
    deleteTagMetric: `DELETE FROM ${ks}.${t.tagMetrics} WHERE name = ? AND value = ? AND metric = ?`,
    setMeta: `INSERT INTO ${ks}.${t.schemaMeta} (name, value) VALUES (?, ?)`,
    insertBucket: `INSERT INTO ${ks}.${t.metricBuckets} (metric, bucket) VALUES (?, ?) USING TTL ?`,
    insertName: `INSERT INTO ${ks}.${t.metricNames} (part, metric) VALUES (?, ?) USING TTL ?`,
    selectMeta: `SELECT name, value FROM ${ks}.${t.schemaMeta}`,
    insertMeta: `INSERT INTO ${ks}.${t.schemaMeta} (name, value) VALUES (?, ?) IF NOT EXISTS`,
    selectBuckets: `SELECT bucket FROM ${ks}.${t.metricBuckets} WHERE metric = ? AND bucket >= ? AND bucket <= ?`,
    selectAllBuckets: `SELECT bucket FROM ${ks}.${t.metricBuckets} WHERE metric = ?`,
    selectSeriesTtl: `SELECT series_id, type, tags, TTL(tags) AS ttl FROM ${ks}.${t.series} WHERE metric = ? AND bucket = ?`,
    selectSeries: `SELECT JSON series_id, type, tags FROM ${ks}.${t.series} WHERE metric = ? AND bucket = ?`,
    /** Layout 2's rows of a series (not yet migrated), ascending, with each value's remaining TTL in seconds (null: never). */
    selectPointsTtl: {
      long: selectTtl(VALUE_COLUMN.long),
      double: selectTtl(VALUE_COLUMN.double),
      string: selectTtl(VALUE_COLUMN.string),
      bytes: selectTtl(VALUE_COLUMN.bytes),
    } satisfies Record<StorageKind, string>,
    /** Layout 2's rows (kept readable until migrated). */
    anyPoint: `SELECT ts FROM ${ks}.${t.dataPoints} WHERE ${partition} LIMIT 1`,
    anySeries: `SELECT series_id FROM ${ks}.${t.series} WHERE metric = ? AND bucket = ? LIMIT 1`,
    anyBucket: `SELECT bucket FROM ${ks}.${t.metricBuckets} WHERE metric = ? LIMIT 1`,
    selectNames: `SELECT metric FROM ${ks}.${t.metricNames} WHERE part = ? AND metric >= ?`,
    deleteRange: `DELETE FROM ${ks}.${t.dataPoints} WHERE ${partition} AND ts >= ? AND ts <= ?`,
    deletePartition: `DELETE FROM ${ks}.${t.dataPoints} WHERE ${partition}`,
    deleteSeries: `DELETE FROM ${ks}.${t.series} WHERE metric = ? AND bucket = ? AND series_id = ? AND type = ?`,
    deleteBucket: `DELETE FROM ${ks}.${t.metricBuckets} WHERE metric = ? AND bucket = ?`,
    deleteName: `DELETE FROM ${ks}.${t.metricNames} WHERE part = ? AND metric = ?`,
    ping: `SELECT name FROM ${ks}.${t.schemaMeta} LIMIT 1`,
    metadataSet: `INSERT INTO ${ks}.${t.metadata} (service, service_key, key, value) VALUES (?, ?, ?, ?)`,
    metadataGet: `SELECT value FROM ${ks}.${t.metadata} WHERE service = ? AND service_key = ? AND key = ?`,
    metadataServiceKeys: `SELECT service_key FROM ${ks}.${t.metadata} WHERE service = ?`,
    metadataKeys: `SELECT key FROM ${ks}.${t.metadata} WHERE service = ? AND service_key = ?`,
    metadataCount: `SELECT key FROM ${ks}.${t.metadata} WHERE service = ? LIMIT ?`,
    metadataDelete: `DELETE FROM ${ks}.${t.metadata} WHERE service = ? AND service_key = ? AND key = ?`,
  };
}

/** The store's statements. */
export type Queries = ReturnType<typeof queries>;

/** The metric_names partition every name is kept in (Cassandra refuses empty partition keys). */
export const NAMES_PART = 'names';
