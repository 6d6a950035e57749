#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { printSchema } from '../cassandra.js';

const { values } = parseArgs({
  options: {
    keyspace: { type: 'string' },
    'replication-factor': { type: 'string' },
    'bucket-width-ms': { type: 'string' },
    preset: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(
    'Usage: koa-kairosdb-schema [--keyspace kairosdb] [--replication-factor 3] [--bucket-width-ms 86400000] [--preset cassandra|astra|keyspaces]\n' +
      'Prints the CQL that creates the Cassandra store\'s keyspace and tables (idempotent).\n',
  );
} else {
  const preset = values.preset as 'cassandra' | 'astra' | 'keyspaces' | undefined;
  process.stdout.write(
    printSchema({
      ...(values.keyspace ? { keyspace: values.keyspace } : {}),
      ...(values['replication-factor'] ? { replication: { class: 'SimpleStrategy', replication_factor: Number(values['replication-factor']) } } : {}),
      ...(values['bucket-width-ms'] ? { bucketWidthMs: Number(values['bucket-width-ms']) } : {}),
      ...(preset ? { preset } : {}),
    }),
  );
}
