// The Cassandra backup and restore of docs/production.md, tried on the project's own single node: `nodetool snapshot`, then after
// every table is truncated, `nodetool import --copy-data` of each table's snapshot — every point back, TTLs kept.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import driver from 'cassandra-driver';
import { CassandraStore } from '../../src/cassandra.js';
import { readAll, series } from '../../src/store-api/conformance.js';
import { decodeChunk } from '../../src/stores/chunk/codec.js';
import { nodetool, SINGLE } from '../../scripts/cassandra/nodes.js';

const local = process.env.CASSANDRA_CONTACT_POINTS === '127.0.0.1' && existsSync(join(SINGLE.dir, 'data'));
const SKIP = 'needs the project\'s own single node (npm run cassandra:start; CASSANDRA_CONTACT_POINTS=127.0.0.1): nodetool reaches it over its local JMX port';

describe('Cassandra backup and restore as docs/production.md says (snapshot, truncate, import)', { skip: local ? false : SKIP }, () => {
  it('brings back every point of every table, with its TTL', async () => {
    const keyspace = `koa_kairosdb_snapshot_${process.pid}`;
    const options = { contactPoints: ['127.0.0.1'], localDataCenter: 'datacenter1' };
    const store = new CassandraStore({ ...options, keyspace });
    const cql = new driver.Client({ ...options, keyspace });
    try {
      await store.init();
      const now = Date.now();
      await store.write([series('m', { h: 'a' }, [[now - 2000, 1], [now - 1000, 2]]), series('m', { h: 'b' }, [[now - 1000, 3]], { ttl: 3600 })]);
      const points = async () => (await readAll(store, { metric: 'm', start: 0 })).map((s) => [s.tags.h, s.points]);
      const before = await points();
      assert.equal(before.length, 2);
      assert.equal(nodetool(SINGLE, ['flush', keyspace]), 0);
      assert.equal(nodetool(SINGLE, ['snapshot', '-t', 'before-loss', keyspace]), 0);
      const tables = readdirSync(join(SINGLE.dir, 'data', keyspace));
      // TRUNCATE leaves no tombstones, which would hide the restored rows (a DELETE's would).
      for (const dir of tables) await cql.execute(`TRUNCATE ${dir.split('-')[0]}`);
      assert.deepEqual(await points(), [], 'lost');
      for (const dir of tables) {
        const snapshot = join(SINGLE.dir, 'data', keyspace, dir, 'snapshots', 'before-loss');
        if (existsSync(snapshot)) assert.equal(nodetool(SINGLE, ['import', '--copy-data', keyspace, dir.split('-')[0] as string, snapshot]), 0, dir);
      }
      assert.deepEqual(await points(), before);
      // Each point's TTL is that of the cell (chunk) holding it.
      const ttls = (await cql.execute('SELECT data, ttl(data) AS ttl FROM chunks')).rows.flatMap((r) => Array.from(decodeChunk(r.data as Uint8Array).timestamps, () => r.ttl as number | null));
      assert.deepEqual(ttls.filter((t) => t === null).length, 2);
      // A chunk cell lives a bucket (1 day) and an hour past its points.
      assert.ok(ttls.some((t) => t !== null && t > 3000 + 90_000 && t <= 3600 + 90_000), `the TTL is kept: ${ttls.join(', ')}`);
    } finally {
      await cql.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
      await cql.shutdown();
      await store.close();
    }
  });
});
