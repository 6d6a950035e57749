#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { printSchema } from '../cassandra.js';
import { closest } from '../option-keys.js';
import type { CassandraStoreOptions } from '../stores/cassandra/options.js';
import { VERSION } from '../version.js';

const USAGE = `Usage: koa-kairosdb-schema [options]
Prints the CQL that creates the Cassandra store's keyspace and tables (every statement IF NOT EXISTS), for
operators who run it themselves and start the store with createSchema: false.

  --keyspace NAME              keyspace (default kairosdb)
  --replication-factor N       SimpleStrategy with N replicas (default 1)
  --datacenter DC:N            NetworkTopologyStrategy with N replicas in DC; repeat for more data centers
  --bucket-width-ms MS         partition width, 3600000 (1 hour) … 1814400000 (21 days) (default 86400000)
  --preset NAME                cassandra (default), astra or keyspaces (managed services: no CREATE KEYSPACE)
  -h, --help                   this text
  -v, --version                the package version
`;

/** Turns the command line into store options; a usage error is thrown as a message for the user. */
function optionsFromArgs(args: string[]): CassandraStoreOptions | 'help' | 'version' {
  const flags = {
    keyspace: { type: 'string' },
    'replication-factor': { type: 'string' },
    datacenter: { type: 'string', multiple: true },
    'bucket-width-ms': { type: 'string' },
    preset: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  } as const;
  for (const arg of args) {
    const name = /^--([^=]+)/.exec(arg)?.[1];
    if (name === undefined || Object.hasOwn(flags, name)) continue;
    const guess = closest(name, Object.keys(flags));
    throw new Error(`Unknown option '--${name}'${guess ? `; did you mean '--${guess}'?` : ''}`);
  }
  const { values } = parseArgs({ args, options: flags });
  if (values.help) return 'help';
  if (values.version) return 'version';
  const options: CassandraStoreOptions = {};
  if (values.keyspace !== undefined) options.keyspace = values.keyspace;
  if (values['replication-factor'] !== undefined && values.datacenter !== undefined) throw new Error('give --replication-factor or --datacenter, not both');
  if (values['replication-factor'] !== undefined) {
    options.replication = { class: 'SimpleStrategy', replication_factor: wholeNumber('--replication-factor', values['replication-factor']) };
  }
  if (values.datacenter !== undefined) {
    const factors = values.datacenter.map((pair) => {
      const match = /^([^:]+):(.+)$/.exec(pair);
      if (!match) throw new Error(`--datacenter takes DC:N (e.g. dc1:3), got '${pair}'`);
      return [match[1], wholeNumber(`--datacenter ${match[1]}`, match[2] as string)] as const;
    });
    options.replication = { class: 'NetworkTopologyStrategy', ...Object.fromEntries(factors) };
  }
  if (values['bucket-width-ms'] !== undefined) options.bucketWidthMs = wholeNumber('--bucket-width-ms', values['bucket-width-ms']);
  if (values.preset !== undefined) options.preset = values.preset as CassandraStoreOptions['preset'] & string;
  return options;
}

function wholeNumber(flag: string, text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text)) throw new Error(`${flag} takes a whole number ≥ 1, got '${text}'`);
  return Number(text);
}

function main(): void {
  try {
    const options = optionsFromArgs(process.argv.slice(2));
    if (options === 'help') process.stdout.write(USAGE);
    else if (options === 'version') process.stdout.write(`${VERSION}\n`);
    else process.stdout.write(printSchema(options));
  } catch (error) {
    const message = (error as Error).message.replace(/^CassandraStore: /, '');
    process.stderr.write(`koa-kairosdb-schema: ${message}\nRun koa-kairosdb-schema --help for the options.\n`);
    process.exitCode = 2;
  }
}

main();
