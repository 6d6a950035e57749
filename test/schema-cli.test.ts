import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/bin/schema.ts', import.meta.url));
const run = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8' });

describe('koa-kairosdb-schema', () => {
  it('prints the idempotent CQL for the given keyspace, replication and bucket width', () => {
    const cql = run('--keyspace', 'metrics', '--replication-factor', '3', '--bucket-width-ms', '3600000');
    assert.match(cql, /^CREATE KEYSPACE IF NOT EXISTS metrics WITH replication = \{'class': 'SimpleStrategy', 'replication_factor': 3\};/);
    assert.equal(cql.match(/CREATE TABLE IF NOT EXISTS metrics\./g)?.length, 5);
    assert.match(cql, /'compaction_window_size': 1\}/);
    assert.match(cql, /VALUES \('bucket_width_ms', '3600000'\) IF NOT EXISTS;/);
  });

  it('leaves keyspace creation out with a managed-service preset', () => {
    assert.doesNotMatch(run('--preset', 'astra'), /CREATE KEYSPACE/);
  });
});
