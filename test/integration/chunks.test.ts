// Issue #30 on the real node: a keyspace written at layout 2 (points in data_points) is read beside the chunks by
// an upgraded app and moved by `koa-kairosdb migrate`; two app processes compacting the same buckets at once, one
// killed mid-run, leave every point readable once a compaction completes.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import driver from 'cassandra-driver';
import { CassandraStore } from '../../src/cassandra.js';
import { readAll, series } from '../../src/store-api/conformance.js';
import { seriesId } from '../../src/stores/cassandra/keys.js';

const contactPoints = process.env.CASSANDRA_CONTACT_POINTS;
const SKIP = 'CASSANDRA_CONTACT_POINTS is not set: run `npm run cassandra:start`, then `CASSANDRA_CONTACT_POINTS=127.0.0.1 npm run test:cassandra`';
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const DAY = 86_400_000;
const T0 = 20_000 * DAY;

describe('Cassandra layout 3 on a real node (#30)', { skip: contactPoints ? false : SKIP }, () => {
  const hosts = contactPoints as string;
  const options = { contactPoints: hosts.split(','), localDataCenter: 'datacenter1' };

  it('reads a layout-2 keyspace beside the chunks; `koa-kairosdb migrate` moves its points online, TTLs kept', async () => {
    const keyspace = `koa_kairosdb_migrate_${process.pid}`;
    const admin = new driver.Client(options);
    const stores: CassandraStore[] = [];
    try {
      // A layout-2 keyspace: the index as a store writes it, the points as rows of data_points.
      const seed = new CassandraStore({ ...options, keyspace, compactIntervalMs: 0 });
      stores.push(seed);
      const points: [number, number][] = Array.from({ length: 3000 }, (_, i) => [T0 + i * 60_000, i]);
      await seed.write([series('m', { h: 'a' }, points), series('m', { h: 'b' }, [[T0, 0.5]], { storage: 'double', type: 'double', ttl: 7200 })]);
      await admin.execute(`CREATE TABLE ${keyspace}.data_points (metric text, series_id blob, bucket timestamp, ts timestamp, type text, long_value bigint, double_value double, string_value text, blob_value blob, PRIMARY KEY ((metric, series_id, bucket), ts, type))`);
      const insert = (column: string) => `INSERT INTO ${keyspace}.data_points (metric, series_id, bucket, ts, type, ${column}) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?`;
      const a = seriesId({ h: 'a' });
      for (let i = 0; i < points.length; i += 100) {
        await Promise.all(points.slice(i, i + 100).map(([t, v]) => admin.execute(insert('long_value'), ['m', a, Math.floor(t / DAY) * DAY, t, 'long', v, 0], { prepare: true })));
      }
      await admin.execute(insert('double_value'), ['m', seriesId({ h: 'b' }), T0, T0, 'double', 0.5, 7200], { prepare: true });
      await admin.execute(`TRUNCATE ${keyspace}.chunks`);
      await admin.execute(`INSERT INTO ${keyspace}.schema_meta (name, value) VALUES ('layout_version', '2')`);
      await seed.close();

      const app = new CassandraStore({ ...options, keyspace, compactIntervalMs: 0 });
      stores.push(app);
      const read = async () => (await readAll(app, { metric: 'm', start: 0 })).map((s) => [s.tags.h, s.points.length, s.points[0], s.points.at(-1)]);
      const expected = [['a', 3000, [T0, 0], [T0 + 2999 * 60_000, 2999]], ['b', 1, [T0, 0.5], [T0, 0.5]]];
      assert.deepEqual(await read(), expected, 'read from data_points by an upgraded app');
      await app.write([series('m', { h: 'a' }, [[T0, -1]])]);
      expected[0]![2] = [T0, -1];
      assert.deepEqual(await read(), expected, 'a write after the upgrade wins');

      const cli = spawnSync(process.execPath, ['--import', 'tsx', here('../../src/bin/transfer.ts'), 'migrate', '--store', `cassandra:${hosts}/${keyspace}`], { encoding: 'utf8' });
      assert.equal(cli.status, 0, cli.stderr);
      assert.match(cli.stderr, /migrated 3001 points in 4 partitions \(a series' bucket each\) into chunks, then merged \d+ chunks/);
      assert.deepEqual(await read(), expected, 'the same points, read by the app that was open during the move');
      assert.equal((await admin.execute(`SELECT COUNT(*) AS n FROM ${keyspace}.data_points`)).first()?.n.toNumber(), 0);
      const ttl = (await admin.execute(`SELECT TTL(data) AS t FROM ${keyspace}.chunks WHERE metric = 'm' AND series_id = ? AND bucket = ? AND type = 'double'`, [seriesId({ h: 'b' }), new Date(T0)], { prepare: true })).first()?.t as number;
      assert.ok(ttl > 7000 + 90_000 && ttl <= 7200 + 90_000, `TTL ${ttl}`);
      const fresh = new CassandraStore({ ...options, keyspace, createSchema: false });
      stores.push(fresh);
      assert.deepEqual((await readAll(fresh, { metric: 'm', start: 0 })).map((s) => s.points.length), [3000, 1]);
    } finally {
      await Promise.allSettled(stores.map((s) => s.close()));
      await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
      await admin.shutdown();
    }
  });

  it('two processes compacting one keyspace at once, one killed mid-run: every point read back after a compaction completes', async () => {
    const keyspace = `koa_kairosdb_compact_${process.pid}`;
    const store = new CassandraStore({ ...options, keyspace, compactionConcurrency: 0, compactIntervalMs: 0 });
    try {
      const expected = new Map<string, [number, number][]>();
      for (let r = 0; r < 12; r++) {
        const batch = Array.from({ length: 200 }, (_, s) => {
          const pts: [number, number][] = Array.from({ length: 5 }, (_, k) => [T0 + (r * 5 + k) * 60_000, r * 1000 + s]);
          expected.set(`h${s}`, [...(expected.get(`h${s}`) ?? []), ...pts]);
          return series('m', { h: `h${s}` }, pts);
        });
        await store.write(batch);
      }
      const child = (kill: boolean) =>
        new Promise<string>((resolve) => {
          const proc = spawn(process.execPath, ['--import', 'tsx', here('./compact-child.ts'), hosts, keyspace], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          proc.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if (kill && out.includes('started')) setTimeout(() => proc.kill('SIGKILL'), 300);
          });
          proc.on('exit', () => resolve(out));
        });
      const [killed, whole] = await Promise.all([child(true), child(false)]);
      assert.ok(!killed.includes('partitions'), `the first was killed before it finished: ${killed}`);
      assert.match(whole, /"partitions":200/);
      const got = await readAll(store, { metric: 'm', start: 0 });
      assert.equal(got.length, 200);
      for (const s of got) assert.deepEqual(s.points, expected.get(s.tags.h as string), s.tags.h);
      const again = await store.compact();
      assert.equal(again.merged, 0, 'converged: nothing left to merge');
    } finally {
      await store.close();
      const admin = new driver.Client(options);
      await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
      await admin.shutdown();
    }
  });
});
