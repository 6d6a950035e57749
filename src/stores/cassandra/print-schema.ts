import { resolveCassandraOptions, type CassandraStoreOptions } from './options.js';
import { LAYOUT_VERSION, schemaStatements } from './schema.js';

/** The DDL (and schema_meta rows) of a store's options as a CQL script, for operators who run it themselves. */
export function printSchema(options: Omit<CassandraStoreOptions, 'client' | 'clientOptions'> = {}): string {
  const resolved = resolveCassandraOptions({ ...options, createSchema: true });
  const meta = `${resolved.keyspace}.${resolved.tables.schemaMeta}`;
  return [
    ...schemaStatements(resolved),
    `INSERT INTO ${meta} (name, value) VALUES ('bucket_width_ms', '${resolved.bucketWidthMs}') IF NOT EXISTS`,
    `INSERT INTO ${meta} (name, value) VALUES ('layout_version', '${LAYOUT_VERSION}') IF NOT EXISTS`,
  ]
    .map((statement) => `${statement};\n`)
    .join('\n');
}
