import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb } from '../../src/index.js';

const contactPoints = process.env.CASSANDRA_CONTACT_POINTS;
const SKIP = 'CASSANDRA_CONTACT_POINTS is not set: run `npm run cassandra:start`, then `CASSANDRA_CONTACT_POINTS=127.0.0.1 npm run test:cassandra`';

/** A TCP relay on loopback in front of the real node: `down` holds new connections silent, `up` relays them. */
class Relay {
  mode: 'down' | 'up' = 'down';
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  constructor(readonly target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      this.#sockets.add(client);
      client.on('close', () => this.#sockets.delete(client));
      client.on('error', () => {});
      if (this.mode === 'down') return;
      const upstream = connect(target.port, target.host);
      this.#sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
  }
  listen(): Promise<number> {
    return new Promise((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve((this.#server.address() as { port: number }).port)));
  }
  close(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.close();
  }
}

if (!contactPoints) {
  describe('Cassandra outage (default store)', () => {
    it('fails fast while down and recovers on its own', { skip: process.env.CASSANDRA_REQUIRED === '1' ? false : SKIP }, () => assert.fail(`CASSANDRA_REQUIRED=1 but ${SKIP}`));
  });
} else {
  describe('Cassandra outage (default store, real node behind a relay)', () => {
    const relay = new Relay({ host: contactPoints.split(',')[0]?.trim() as string, port: 9042 });
    let port = 0;
    before(async () => (port = await relay.listen()));
    after(() => relay.close());

    it('tells at start, answers 503 at once while no host answers, and ingests again once the node is reachable, without a restart', async () => {
      const keyspace = `koa_kairosdb_outage_${process.pid}`;
      const middleware = kairosdb({
        cassandra: {
          contactPoints: [`127.0.0.1:${port}`],
          localDataCenter: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
          keyspace,
          clientOptions: { socketOptions: { connectTimeout: 1000, readTimeout: 1000 }, pooling: { heartBeatInterval: 0 } },
        },
      });
      await assert.rejects(middleware.ready(), new RegExp(`Cassandra is unavailable \\(contact points 127\\.0\\.0\\.1:${port}, keyspace '${keyspace}'\\)`));
      const app = new Koa();
      app.use(middleware);
      const point = (t: number) => [{ name: 'outage', tags: { h: 'a' }, timestamp: t, value: t }];
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const res = await request(app.callback()).post('/api/v1/datapoints').send(point(i + 1));
        assert.equal(res.status, 503, res.text);
        assert.ok(res.headers['retry-after']);
        assert.ok(Date.now() - started < 500, `503 in ${Date.now() - started} ms, not after the 1 s driver timeout`);
      }
      relay.mode = 'up';
      const deadline = Date.now() + 30_000;
      let status = 0;
      while (status !== 204 && Date.now() < deadline) {
        status = (await request(app.callback()).post('/api/v1/datapoints').send(point(100))).status;
        if (status !== 204) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.equal(status, 204, 'ingests again once the node answers');
      await middleware.ready();
      const read = await request(app.callback()).post('/api/v1/datapoints/query').send({ start_absolute: 0, metrics: [{ name: 'outage' }] });
      assert.deepEqual(read.body.queries[0].results[0].values, [[100, 100]], 'only the acknowledged point is stored');
      await middleware.close();
      const { default: driver } = await import('cassandra-driver');
      const admin = new driver.Client({ contactPoints: [contactPoints.split(',')[0]?.trim() as string], localDataCenter: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1' });
      await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
      await admin.shutdown();
    });
  });
}
