export { CassandraStore } from './stores/cassandra/store.js';
export type { CassandraClient, CassandraStoreOptions, Row, TableNames } from './stores/cassandra/options.js';
export { printSchema } from './stores/cassandra/print-schema.js';
