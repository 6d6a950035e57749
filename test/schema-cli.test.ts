import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/bin/schema.ts', import.meta.url));
const run = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8' });
const fails = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8' });

describe('koa-kairosdb-schema', () => {
  it('prints the idempotent CQL for the given keyspace, replication and bucket width', () => {
    const cql = run('--keyspace', 'metrics', '--replication-factor', '3', '--bucket-width-ms', '3600000');
    assert.match(cql, /^CREATE KEYSPACE IF NOT EXISTS metrics WITH replication = \{'class': 'SimpleStrategy', 'replication_factor': 3\};/);
    assert.equal(cql.match(/CREATE TABLE IF NOT EXISTS metrics\./g)?.length, 9);
    assert.match(cql, /'compaction_window_size': 1\}/);
    assert.match(cql, /VALUES \('bucket_width_ms', '3600000'\) IF NOT EXISTS;/);
  });

  it('leaves keyspace creation out with a managed-service preset', () => {
    assert.doesNotMatch(run('--preset', 'astra'), /CREATE KEYSPACE/);
  });

  it('refuses a bad flag or value with one line and exit code 2, never a stack or NaN in the CQL', () => {
    const cases: [string[], RegExp][] = [
      [['--replication-factor', 'abc'], /--replication-factor takes a whole number ≥ 1, got 'abc'/],
      [['--replication-factor', '0'], /got '0'/],
      [['--replication-factor', '-1'], /--replication-factor/],
      [['--replication-factor', '2.5'], /got '2.5'/],
      [['--preset', 'nonsense'], /preset must be one of cassandra, astra, keyspaces/],
      [['--bogus'], /Unknown option '--bogus'/],
      [['--keyspce', 'k'], /Unknown option '--keyspce'; did you mean '--keyspace'\?/],
      [['--replication_factor=3'], /did you mean '--replication-factor'\?/],
      [['--datacenter', 'dc1'], /--datacenter takes DC:N/],
      [['--bucket-width-ms', '5'], /bucketWidthMs must be an integer between 3600000/],
    ];
    for (const [args, message] of cases) {
      const result = fails(...args);
      assert.equal(result.status, 2, args.join(' '));
      assert.equal(result.stdout, '');
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('has --help and --version, and NetworkTopologyStrategy per data center', () => {
    assert.match(run('--help'), /^Usage: koa-kairosdb-schema/);
    assert.equal(run('--version').trim(), JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
    assert.match(run('--datacenter', 'dc1:3', '--datacenter', 'us-east-1:2'), /\{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'us-east-1': 2\}/);
  });
});
