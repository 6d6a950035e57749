import type { ResolvedCassandraOptions } from './options.js';

/**
 * Version of the table layout, kept in schema_meta: 2 adds the series index (`series_tags`, `tag_metrics`) to 1; 3
 * keeps points in compressed `chunks` (a keyspace of layout 2 keeps its `data_points` rows readable until migrated).
 */
export const LAYOUT_VERSION = '3';

const literal = (map: Record<string, string | number>) =>
  `{${Object.entries(map)
    .map(([k, v]) => `'${k}': ${typeof v === 'number' ? v : `'${v.replaceAll("'", "''")}'`}`)
    .join(', ')}}`;

/** The DDL of the store, in order, every statement idempotent (IF NOT EXISTS). */
export function schemaStatements(options: ResolvedCassandraOptions): string[] {
  const { keyspace: ks, tables: t } = options;
  const statements: string[] = [];
  if (options.createKeyspace) {
    statements.push(`CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = ${literal(options.replication)}`);
  }
  statements.push(
    `CREATE TABLE IF NOT EXISTS ${ks}.${t.schemaMeta} (name text PRIMARY KEY, value text)`,
    `CREATE TABLE IF NOT EXISTS ${ks}.${t.series} (
  metric text, bucket timestamp, series_id blob, type text, tags frozen<map<text, text>>,
  PRIMARY KEY ((metric, bucket), series_id, type)
)`,
    `CREATE TABLE IF NOT EXISTS ${ks}.${t.metricBuckets} (metric text, bucket timestamp, PRIMARY KEY ((metric), bucket))`,
    `CREATE TABLE IF NOT EXISTS ${ks}.${t.metricNames} (part text, metric text, PRIMARY KEY ((part), metric))`,
    `CREATE TABLE IF NOT EXISTS ${ks}.${t.metadata} (service text, service_key text, key text, value text, PRIMARY KEY ((service), service_key, key))`,
    `CREATE TABLE IF NOT EXISTS ${ks}.${t.seriesTags} (
  metric text, bucket timestamp, name text, value text, series_id blob, type text, tags frozen<map<text, text>>,
  PRIMARY KEY ((metric, bucket, name, value), series_id, type)
)`,
    `CREATE TABLE IF NOT EXISTS ${ks}.${t.tagMetrics} (name text, value text, metric text, PRIMARY KEY ((name, value), metric))`,
    `CREATE TABLE IF NOT EXISTS ${ks}.${t.chunks} (
  metric text, series_id blob, bucket timestamp, type text, seq bigint, writer blob,
  first timestamp, last timestamp, count int, data blob,
  PRIMARY KEY ((metric, series_id, bucket), type, seq, writer)
) WITH compaction = ${literal(options.compaction)}`,
    `CREATE TABLE IF NOT EXISTS ${ks}.${t.leases} (name text PRIMARY KEY, holder blob)`,
  );
  return statements;
}
