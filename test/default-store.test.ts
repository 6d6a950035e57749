import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb } from '../src/index.js';

const driverLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('cassandra-driver'));

describe('Cassandra as the default store', () => {
  it('builds a CassandraStore from options.cassandra, loading the driver only on the first request', async () => {
    const app = new Koa();
    app.use(kairosdb({ cassandra: { contactPoints: ['127.0.0.1:1'], localDataCenter: 'datacenter1', keyspace: 'nowhere' } }));
    assert.equal(driverLoaded(), false);
    const res = await request(app.callback())
      .post('/api/v1/datapoints')
      .send([{ name: 'm', tags: { h: 'a' }, timestamp: 1, value: 1 }]);
    assert.equal(driverLoaded(), true);
    assert.equal(res.status, 503, res.text);
    assert.ok(res.headers['retry-after']);
  });
});
