// `koa-kairosdb export` from SQLite and `import` into a real Cassandra node, then exported again from Cassandra:
// every value, type, tag set and TTL arrives (the expiry read back with Cassandra's TTL()).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import driver from 'cassandra-driver';
import { SqliteStore } from '../../src/sqlite.js';
import { decodeChunk } from '../../src/stores/chunk/codec.js';
import { series } from '../../src/store-api/conformance.js';

const contactPoints = process.env.CASSANDRA_CONTACT_POINTS;
const SKIP = 'CASSANDRA_CONTACT_POINTS is not set: run `npm run cassandra:start`, then `CASSANDRA_CONTACT_POINTS=127.0.0.1 npm run test:cassandra`';
const cli = fileURLToPath(new URL('../../src/bin/transfer.ts', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8' });

describe('koa-kairosdb export|import with a real Cassandra node', { skip: contactPoints ? false : SKIP }, () => {
  it('moves a SQLite store into Cassandra and back out, TTLs kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kairosdb-transfer-cassandra-'));
    const keyspace = `koa_kairosdb_transfer_${process.pid}`;
    const hosts = contactPoints as string;
    const admin = new driver.Client({ contactPoints: hosts.split(','), localDataCenter: 'datacenter1' });
    try {
      const source = new SqliteStore({ path: join(dir, 'source.db') });
      const now = Date.now();
      await source.write([
        series('cpu', { host: 'a' }, [[now - 2000, 1], [now - 1000, 2]], { ttl: 3600 }),
        series('cpu', { host: 'a' }, [[now - 1500, 0.5]], { storage: 'double', type: 'double' }),
        series('log', { host: 'a', dc: 'x' }, [[now, 'started']], { storage: 'string', type: 'string', ttl: 600 }),
      ]);
      await source.write([series('cpu', { host: 'a' }, [[now, 3]], { ttl: 7200 })]);
      await source.close();
      const file = join(dir, 'export.txt.gz');
      const exported = run(['export', '--store', `sqlite:${join(dir, 'source.db')}`, '-f', file]);
      assert.equal(exported.status, 0, exported.stderr);
      const imported = run(['import', '--store', `cassandra:${hosts}/${keyspace}`, '-f', file]);
      assert.equal(imported.status, 0, imported.stderr);
      assert.match(imported.stderr, /imported 5 points/);

      // Each point's cell (a chunk) outlives it by a bucket (1 day) and an hour: the TTL of the cell that holds each value.
      const cells = await admin.execute(`SELECT data, TTL(data) AS ttl FROM ${keyspace}.chunks WHERE metric = 'cpu' AND type = 'long' ALLOW FILTERING`);
      const longs = cells.rows.flatMap((r) => Array.from(decodeChunk(r.data as Uint8Array).values, (v) => [Number(v), (r.ttl as number) - 90_000])).sort((x, y) => (x[0] as number) - (y[0] as number));
      assert.deepEqual(longs.map(([v]) => v), [1, 2, 3]);
      for (const [value, ttl] of longs) assert.ok(Math.abs((ttl as number) - (value === 3 ? 7200 : 3600)) <= 30, `value ${value}: TTL ${ttl}`);

      const back = run(['export', '--store', `cassandra:${hosts}/${keyspace}`]);
      assert.equal(back.status, 0, back.stderr);
      const lines = back.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { name: string; type: string; tags: object; ttl?: number; datapoints: unknown[][] });
      const line = (name: string, type: string) => lines.find((l) => l.name === name && l.type === type);
      assert.deepEqual(line('cpu', 'long')?.datapoints.map((p) => p.slice(0, 2)), [[now - 2000, 1], [now - 1000, 2], [now, 3]]);
      assert.deepEqual(line('cpu', 'double'), { name: 'cpu', tags: { host: 'a' }, type: 'double', datapoints: [[now - 1500, 0.5]] });
      assert.deepEqual(line('log', 'string')?.tags, { dc: 'x', host: 'a' });
      assert.ok(Math.abs((line('log', 'string')?.ttl as number) - 600) <= 30);
    } finally {
      await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
      await admin.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
