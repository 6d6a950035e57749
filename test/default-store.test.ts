import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb } from '../src/index.js';

/** A TCP server on loopback that accepts connections and never answers: a Cassandra host that hangs. */
async function silentHost(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

const point = [{ name: 'm', tags: { h: 'a' }, timestamp: 1, value: 1 }];

describe('Cassandra as the default store (options.cassandra)', () => {
  it('checks its options at mount: a string contactPoints, a misspelt key, a missing data center', () => {
    assert.throws(() => kairosdb({ cassandra: { contactPoints: '127.0.0.1' as never, localDataCenter: 'dc1' } }), /contactPoints must be a non-empty array of host names/);
    assert.throws(() => kairosdb({ cassandra: { contactPoint: ['127.0.0.1'] } as never }), /unknown option 'contactPoint'; did you mean 'contactPoints'\?/);
    assert.throws(() => kairosdb({ cassandra: { contactPoints: ['127.0.0.1'] } }), /localDataCenter is needed with contactPoints/);
    assert.throws(() => kairosdb({ cassandra: { contactPoints: ['h'], localDataCenter: 'dc1', replication: { class: 'SimpleStrategy', replication_factor: 0 } } }), /replication.replication_factor must be a whole number ≥ 1/);
  });

  it('tells an unreachable cluster at start with host, keyspace and reason (ready() rejects, a process warning without a logger)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const middleware = kairosdb({ cassandra: { contactPoints: ['127.0.0.1:1'], localDataCenter: 'datacenter1', keyspace: 'nowhere' } });
      await assert.rejects(middleware.ready(), (error: Error) => {
        assert.match(error.message, /Cassandra is unavailable \(contact points 127\.0\.0\.1:1, keyspace 'nowhere'\): NoHostAvailableError: 127\.0\.0\.1:1 .*ECONNREFUSED/);
        return true;
      });
      await middleware.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(warnings.some((w) => w.name === 'KairosdbStoreWarning' && /127\.0\.0\.1:1/.test(w.message)), warnings.map(String).join('\n'));
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('logs an unreachable cluster once to a given logger (the store says it; the mount does not say it again)', async () => {
    const errors: string[] = [];
    const logger = { error: (_o: unknown, m: string) => void errors.push(m), warn: () => {}, info: () => {}, debug: () => {} };
    const middleware = kairosdb({ cassandra: { contactPoints: ['127.0.0.1:1'], localDataCenter: 'datacenter1', keyspace: 'nowhere' }, logger });
    await assert.rejects(middleware.ready());
    await middleware.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] ?? '', /Cassandra is unavailable \(contact points 127\.0\.0\.1:1, keyspace 'nowhere'\).*answering 503 until a host answers/);
  });

  describe('a host that accepts connections and never answers', () => {
    let host: Awaited<ReturnType<typeof silentHost>>;
    before(async () => (host = await silentHost()));
    after(() => {
      for (const socket of host.sockets) socket.destroy();
      host.server.close();
    });

    it('fails fast: once it is known down, requests and health checks answer 503 with Retry-After at once, not after the driver timeout', async () => {
      const logged: string[] = [];
      const logger = { error: (_: unknown, msg?: string) => void logged.push(String(msg)), warn() {}, info() {}, debug() {} };
      const socketOptions = { connectTimeout: 800, readTimeout: 800 };
      const middleware = kairosdb({
        logger,
        cassandra: { contactPoints: [`127.0.0.1:${host.port}`], localDataCenter: 'datacenter1', clientOptions: { socketOptions } },
      });
      const started = Date.now();
      await assert.rejects(middleware.ready(), /Cassandra is unavailable/);
      assert.ok(Date.now() - started >= 700, 'the first connection attempt waits for the driver timeout');
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(logged.some((m) => m.includes(`127.0.0.1:${host.port}`)), logged.join("\n"));
      const app = new Koa();
      app.use(middleware);
      for (const send of [
        () => request(app.callback()).post('/api/v1/datapoints').send(point),
        () => request(app.callback()).get('/api/v1/health/check'),
        () => request(app.callback()).get('/api/v1/metricnames'),
      ]) {
        const t = Date.now();
        const res = await send();
        assert.equal(res.status, 503, res.text);
        assert.ok(res.headers['retry-after']);
        assert.ok(Date.now() - t < 400, `answered in ${Date.now() - t} ms, the driver timeout is 800 ms`);
      }
      await middleware.close();
    });
  });
});
