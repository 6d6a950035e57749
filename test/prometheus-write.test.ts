import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import snappy from 'snappy';
import request from 'supertest';
import { kairosdb, MemoryStore, type KairosdbOptions } from '../src/index.js';
import { ProtobufWriter } from '../src/protocols/protobuf.js';
import { readAll } from '../src/store-api/conformance.js';

/** A WriteRequest of time series, each of labels and samples (written with the library's writer; the reader is under test). */
type Series = (w: ProtobufWriter) => void;
const series = (labels: [string, string][], samples: [number, number][]): Series => (w) =>
  w.message(1, (s) => {
    for (const [name, value] of labels) s.message(1, (l) => l.string(1, name).string(2, value));
    for (const [ts, value] of samples) s.message(2, (p) => p.double(1, value).int64(2, ts));
  });
const writeRequest = (...all: Series[]) => {
  const w = new ProtobufWriter();
  for (const write of all) write(w);
  return w.finish();
};

function app(options: Partial<KairosdbOptions> = {}) {
  const store = new MemoryStore();
  const koa = new Koa();
  koa.use(kairosdb({ store, routes: { prometheus: true }, ...options }));
  const server = koa.callback();
  const post = (body: Buffer, compressed = snappy.compressSync(body)) =>
    request(server).post('/api/v1/write').set('Content-Type', 'application/x-protobuf').set('Content-Encoding', 'snappy').set('X-Prometheus-Remote-Write-Version', '0.1.0').send(compressed);
  return { store, server, post };
}

describe('Prometheus remote write (POST /write, snappy protobuf)', () => {
  it('stores every series: __name__ the metric, labels the tags, samples as doubles; NaN (staleness) left out', async () => {
    const { store, post } = app();
    const body = writeRequest(
      series([['__name__', 'up'], ['job', 'node'], ['instance', 'a:9100'], ['empty', '']], [[1_700_000_000_000, 1], [1_700_000_015_000, 0]]),
      series([['__name__', 'up'], ['job', 'node'], ['instance', 'b:9100']], [[1_700_000_000_000, 1], [1_700_000_015_000, Number.NaN]]),
      series([['__name__', 'temperature']], [[1_700_000_000_000, -3.25]]),
    );
    await post(body).expect(204);
    const up = await readAll(store, { metric: 'up' });
    assert.deepEqual(up.map((s) => [s.tags, s.type, s.points]), [
      [{ instance: 'a:9100', job: 'node' }, 'double', [[1_700_000_000_000, 1], [1_700_000_015_000, 0]]],
      [{ instance: 'b:9100', job: 'node' }, 'double', [[1_700_000_000_000, 1]]],
    ]);
    assert.deepEqual((await readAll(store, { metric: 'temperature' }))[0]?.tags, { add: 'tag' });
  });

  it('answers 400 to what is not a write request, 413 past the limit, and writes nothing', async () => {
    const { store, post } = app({ maxDecompressedBytes: 1024 });
    const good = writeRequest(series([['__name__', 'm'], ['a', 'b']], [[1, 1]]));
    const cases: [Buffer, Buffer | undefined, number, RegExp][] = [
      [writeRequest(series([['job', 'x']], [[1, 1]])), undefined, 400, /time series 0 has no __name__ label/],
      [good.subarray(0, good.length - 3), undefined, 400, /Invalid protobuf body: .*past the end/],
      [good, Buffer.from([0x05, 0x00, 0x01, 0x02]), 400, /Invalid snappy body/],
      // Declares 300 bytes and holds fewer: refused, not padded.
      [good, Buffer.concat([Buffer.from([0xac, 0x02]), snappy.compressSync(good).subarray(1)]), 400, /Invalid snappy body/],
      [good, Buffer.from([0xff, 0xff, 0xff, 0x7f, 0x00]), 413, /exceeds the limit of 1024 bytes/],
      [bytesFieldHuge(), undefined, 400, /Invalid protobuf body: a length runs past the end/],
    ];
    for (const [body, compressed, status, message] of cases) {
      const res = await post(body, compressed);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(res.body.errors[0], message);
    }
    assert.deepEqual(await store.metricNames(), []);
  });

  it('refuses a request of more than maxNamesPerBody different label names, writing nothing; takes it under the limit', async () => {
    // 250 series of 49 new label names each: 12,250 different names (14,000 such series held the event loop 1.7 s).
    const many = writeRequest(...Array.from({ length: 250 }, (_, s) => series([['__name__', 'm'], ...Array.from({ length: 49 }, (_, i): [string, string] => [`t${s * 49 + i}`, 'v'])], [[1, s]])));
    const refused = app();
    const res = await refused.post(many);
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors, ['time series 204: more than 10000 different label names in one write request (maxNamesPerBody)']);
    assert.deepEqual(await refused.store.metricNames(), []);
    const taken = app({ maxNamesPerBody: 20_000 });
    await taken.post(many).expect(204);
    assert.equal((await readAll(taken.store, { metric: 'm' })).length, 250);
  });

  it('sends a body that is not protobuf to Influx when both are on, else 415', async () => {
    const { store, server } = app({ routes: { prometheus: true, influx: true } });
    await request(server).post('/api/v1/write?precision=s').set('Content-Type', 'text/plain').send('cpu,host=a v=1 1700000000').expect(204);
    assert.deepEqual((await readAll(store, { metric: 'cpu.v' }))[0]?.points, [[1_700_000_000_000, 1]]);
    const only = app();
    const res = await request(only.server).post('/api/v1/write').set('Content-Type', 'text/plain').send('cpu v=1');
    assert.equal(res.status, 415);
  });
});

/** A time series field that claims 2^31 bytes. */
function bytesFieldHuge(): Buffer {
  return Buffer.concat([new ProtobufWriter().varint(1 * 8 + 2).varint(2 ** 31).finish(), Buffer.from([1, 2, 3])]);
}
