import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, MemoryStore, type AccessRequest, type KairosdbOptions } from '../src/index.js';
import { parseInflux } from '../src/protocols/influx.js';
import { readAll } from '../src/store-api/conformance.js';

const NOW = 1_700_000_000_000;

describe('Influx line protocol parser', () => {
  const m = (name: string, tags: Record<string, string>, type: string, datapoints: unknown[][]) => ({ name, tags, type, datapoints });
  const cases: [string, string, unknown[]][] = [
    ['cpu,host=a usage=1.5,count=3i 1700000000000000000', 'ns', [m('cpu.usage', { host: 'a' }, 'double', [[NOW, 1.5]]), m('cpu.count', { host: 'a' }, 'long', [[NOW, 3]])]],
    ['cpu value=1 1700000000', 's', [m('cpu.value', { add: 'tag' }, 'double', [[NOW, 1]])]],
    ['cpu value=7u,up=t,down=FALSE 1700000000000', 'ms', [m('cpu.value', { add: 'tag' }, 'long', [[NOW, 7]]), m('cpu.up', { add: 'tag' }, 'long', [[NOW, 1]]), m('cpu.down', { add: 'tag' }, 'long', [[NOW, 0]])]],
    ['log,host=a msg="said \\"hi\\", then left" 1700000000000000', 'us', [m('log.msg', { host: 'a' }, 'string', [[NOW, 'said "hi", then left']])]],
    ['my\\ cpu,my\\,tag=a\\ b\\=c f\\=x=-1.5e3', 'ns', [m('my cpu.f=x', { 'my,tag': 'a b=c' }, 'double', [[NOW, -1500]])]],
    ['# a comment\n\ncpu,h=a v=1 1700000000000000000\r\n', 'ns', [m('cpu.v', { h: 'a' }, 'double', [[NOW, 1]])]],
    ['cpu v=2 28333333', 'm', [m('cpu.v', { add: 'tag' }, 'double', [[1_699_999_980_000, 2]])]],
    // One series' lines gathered into one metric; an integer and a float of one field are two (long, double).
    ['cpu,h=a v=1 1000\ncpu,h=b v=2 1000\ncpu,h=a v=3 2000\ncpu,h=a v=4i 3000', 'ms', [m('cpu.v', { h: 'a' }, 'double', [[1000, 1], [2000, 3]]), m('cpu.v', { h: 'b' }, 'double', [[1000, 2]]), m('cpu.v', { h: 'a' }, 'long', [[3000, 4]])]],
    ['cpu v=1 -1500999', 'us', [m('cpu.v', { add: 'tag' }, 'double', [[-1500, 1]])]],
  ];
  for (const [text, precision, metrics] of cases) {
    it(`reads ${JSON.stringify(text).slice(0, 60)} (${precision})`, async () => {
      const parsed = await parseInflux(text, precision, NOW);
      assert.ok(parsed.ok, JSON.stringify(parsed));
      assert.deepEqual(parsed.metrics, metrics);
    });
  }

  const bad: [string, number, RegExp][] = [
    ['cpu', 1, /no fields/],
    ['cpu,host value=1', 1, /tag 'host' has no '='/],
    ['cpu value=abc', 1, /'abc' is not a float, an integer/],
    ['cpu value="open', 1, /without its closing quote/],
    ['cpu value=1 12x', 1, /timestamp '12x' is not an integer/],
    ['cpu value=1\ncpu value=99999999999999999999i', 2, /outside ±\(2\^53−1\)/],
    ['cpu value=1 999999999999999999999999', 1, /out of range/],
    [',host=a value=1', 1, /no measurement/],
  ];
  for (const [text, line, message] of bad) {
    it(`refuses ${JSON.stringify(text).slice(0, 50)} naming line ${line}`, async () => {
      const parsed = await parseInflux(text, 'ms', NOW);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) {
        assert.equal(parsed.line, line);
        assert.match(parsed.message, message);
      }
    });
  }

  it('reads a body of 100,000 lines in linear time (a line of 1 MB of backslashes too), giving the event loop turns', async () => {
    const body = Array.from({ length: 100_000 }, (_, i) => `m,host=h${i % 10} v=${i} ${i}`).join('\n');
    const started = performance.now();
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    const parsed = await parseInflux(body, 'ms', NOW);
    clearInterval(counting);
    assert.ok(parsed.ok && parsed.metrics.length === 10);
    assert.equal(parsed.metrics.reduce((n, metric) => n + (metric.datapoints as unknown[]).length, 0), 100_000);
    const long = `m,t=${'\\\\'.repeat(500_000)} v=1`;
    const parsedLong = await parseInflux(long, 'ms', NOW);
    assert.ok(parsedLong.ok);
    assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
    assert.ok(turns >= 1, 'the event loop had turns while 100,000 lines were read');
  });
});

function app(options: Partial<KairosdbOptions> = {}) {
  const store = new MemoryStore();
  const koa = new Koa();
  koa.use(kairosdb({ store, routes: { influx: true }, ...options }));
  return { store, server: koa.callback() };
}

describe('POST /write and /api/v2/write', () => {
  it('stores a body (gzipped too) and answers 204; the routes are off unless asked for', async () => {
    const { store, server } = app();
    await request(server).post('/api/v1/api/v2/write?org=o&bucket=b&precision=s').send('cpu,host=a usage=1.5 1700000000\ncpu,host=b usage=2 1700000000').expect(204);
    await request(server).post('/api/v1/write?db=x&precision=ms').set('Content-Encoding', 'gzip').send(gzipSync('mem,host=a used=10i 1700000000000')).expect(204);
    assert.deepEqual((await readAll(store, { metric: 'cpu.usage' })).map((s) => [s.tags.host, s.points]), [['a', [[NOW, 1.5]]], ['b', [[NOW, 2]]]]);
    assert.deepEqual((await readAll(store, { metric: 'mem.used' }))[0]?.points, [[NOW, 10]]);
    const off = new Koa();
    off.use(kairosdb({ store: new MemoryStore() }));
    await request(off.callback()).post('/api/v1/write').send('cpu v=1').expect(404);
  });

  it('writes nothing of a body with a bad line, and says which line in Influx\'s shape (v1 error, v2 code and message)', async () => {
    const { store, server } = app();
    const v2 = await request(server).post('/api/v1/api/v2/write?precision=s').send('cpu,host=a v=1 1700000000\ncpu,host=a v=x 1700000000\n');
    assert.equal(v2.status, 400);
    assert.deepEqual(v2.body, { code: 'invalid', message: "unable to parse line 2: field 'v': 'x' is not a float, an integer (i, u), a boolean or a quoted string" });
    const v1 = await request(server).post('/api/v1/write?precision=xs').send('cpu v=1');
    assert.deepEqual([v1.status, v1.body], [400, { error: "precision 'xs' is not one of ns, n, us, u, ms, s, m, h" }]);
    const tooManyTags = Array.from({ length: 60 }, (_, i) => `t${i}=v`).join(',');
    const tags = await request(server).post('/api/v1/api/v2/write?precision=s').send(`cpu v=1 1700000000\ncpu,${tooManyTags} v=1 1700000000`);
    assert.deepEqual([tags.status, tags.body.message], [400, 'unable to parse line 2: more than 50 tags (maxTagsPerSeries)']);
    // 250 lines of 49 new tag names each: 12,250 different names in one body (maxNamesPerBody: 10,000).
    const names = Array.from({ length: 250 }, (_, s) => `cpu,${Array.from({ length: 49 }, (_, i) => `t${s * 49 + i}=v`).join(',')} v=1 1700000000`).join('\n');
    const many = await request(server).post('/api/v1/api/v2/write?precision=s').send(names);
    assert.deepEqual([many.status, many.body.message], [400, 'unable to parse line 205: more than 10000 different tag names in one body (maxNamesPerBody)']);
    const limit = await request(server).post('/api/v1/api/v2/write?precision=s').send(`cpu v=1 1700000000\ncpu,h=${'x'.repeat(5000)} v=1 1700000000`);
    assert.equal(limit.status, 400);
    assert.match(limit.body.message, /^unable to parse line 2: point.*maxTagValueLength/);
    assert.deepEqual(await store.metricNames(), []);
  });

  it('shares the mount\'s maxNewSeriesPerMinute budget with KairosDB\'s JSON: past it 429 in Influx\'s shape, nothing written', async () => {
    const { store, server } = app({ maxNewSeriesPerMinute: 3 });
    await request(server).post('/api/v1/datapoints').send([1, 2].map((i) => ({ name: 'json', tags: { h: `${i}` }, datapoints: [[1, 1]] }))).expect(204);
    await request(server).post('/api/v1/api/v2/write?precision=ms').send('cpu,h=a v=1 1').expect(204);
    const over = await request(server).post('/api/v1/api/v2/write?precision=ms').send('cpu,h=b v=1 1');
    assert.equal(over.status, 429);
    assert.equal(over.body.code, 'too many requests');
    assert.ok(Number(over.headers['retry-after']) >= 1);
    assert.deepEqual((await readAll(store, { metric: 'cpu.v' })).map((s) => s.tags.h), ['a']);
  });

  it('reads a body as it arrives: a bad line is answered before the body ends, and a body in chunks of any size stores all of it', async () => {
    const { store, server } = app();
    const http = createServer(server).listen(0, '127.0.0.1');
    await new Promise((resolve) => http.once('listening', resolve));
    try {
      const { port } = http.address() as AddressInfo;
      // 1.3 MB of lines with line 3 bad, then the client goes quiet without ending the body.
      const good = Array.from({ length: 50_000 }, (_, i) => `cpu,host=h${i % 50} v=${i}i ${i}`).join('\n');
      const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/api/v1/api/v2/write?precision=ms' });
      const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
      });
      req.write(`cpu v=1i 1\ncpu v=2i 2\ncpu v=oops 3\n${good}\n`);
      const started = performance.now();
      const answer = await answered;
      req.destroy();
      assert.equal(answer.status, 400);
      assert.match(JSON.parse(answer.body).message, /^unable to parse line 3: field 'v'/);
      assert.ok(performance.now() - started < 5000, 'answered while the body was still open');
      // A 3 MB body sent in chunks of random sizes (a line cut anywhere) stores every point, as sent whole.
      const lines = Array.from({ length: 100_000 }, (_, i) => `mem,host=h${i % 7} used=${i}i ${i}`);
      const bytes = Buffer.from(lines.join('\n'));
      const sent = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/api/v1/write?precision=ms' });
      const done = new Promise<number>((resolve, reject) => sent.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject));
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(Math.random() * 90_000);
        sent.write(bytes.subarray(at, at + size));
        at += size;
        await new Promise((resolve) => setImmediate(resolve));
      }
      sent.end();
      assert.equal(await done, 204);
      const stored = await readAll(store, { metric: 'mem.used' });
      assert.equal(stored.reduce((n, series) => n + series.points.length, 0), 100_000);
      assert.deepEqual(stored.find((series) => series.tags.host === 'h3')?.points.slice(0, 2), [[3, 3], [10, 10]]);
      assert.deepEqual(await store.metricNames(), ['mem.used']);
    } finally {
      http.close();
    }
  });

  it('inflates a compressed body a piece at a time: gzip, zlib and raw deflate; past maxDecompressedBytes 413; empty or corrupt 400', async () => {
    const { store, server } = app({ maxDecompressedBytes: 1_000_000 });
    const body = Array.from({ length: 30_000 }, (_, i) => `z,host=h${i % 3} v=${i}i ${i}`).join('\n');
    await request(server).post('/api/v1/write?precision=ms').set('Content-Encoding', 'gzip').send(gzipSync(body)).expect(204);
    await request(server).post('/api/v1/write?precision=ms').set('Content-Encoding', 'deflate').send(deflateRawSync('r v=1i 1')).expect(204);
    assert.equal((await readAll(store, { metric: 'z.v' })).reduce((n, series) => n + series.points.length, 0), 30_000);
    assert.deepEqual((await readAll(store, { metric: 'r.v' }))[0]?.points, [[1, 1]]);
    const bomb = await request(server).post('/api/v1/write?precision=ms').set('Content-Encoding', 'gzip').send(gzipSync(`b v=1i 1\n${' '.repeat(2_000_000)}`));
    assert.deepEqual([bomb.status, bomb.body.error], [413, 'Request body exceeds the limit of 1000000 bytes']);
    // A bad line in the first piece of a larger body: its 400, not the inflater's.
    const big = Array.from({ length: 80_000 }, (_, i) => `y,host=h${i % 3} v=${i}i ${i}`).join('\n');
    const badLine = await request(app().server).post('/api/v1/write?precision=ms').set('Content-Encoding', 'gzip').send(gzipSync(`y v=1i 1\ny v=oops 1\n${big}`));
    assert.deepEqual([badLine.status, badLine.body.error], [400, "unable to parse line 2: field 'v': 'oops' is not a float, an integer (i, u), a boolean or a quoted string"]);
    const empty = await request(server).post('/api/v1/write').set('Content-Encoding', 'gzip').send(Buffer.alloc(0));
    assert.equal(empty.status, 400);
    const corrupt = await request(server).post('/api/v1/write').set('Content-Encoding', 'gzip').send(gzipSync(body).subarray(0, 500));
    assert.deepEqual([corrupt.status, /^Invalid gzip body/.test(corrupt.body.error)], [400, true]);
    assert.deepEqual((await store.metricNames()).sort(), ['r.v', 'z.v']);
  });

  it('asks authorize for a write naming the protocol, and stamps the tenant', async () => {
    const seen: AccessRequest[] = [];
    const { store, server } = app({ tenant: () => 'acme', authorize: (_ctx, r) => void seen.push(r) });
    await request(server).post('/api/v1/api/v2/write?precision=s').send('cpu,host=a v=1 1700000000').expect(204);
    assert.equal(seen[0]?.action, 'write');
    assert.equal((seen[0] as { protocol?: string }).protocol, 'influx');
    assert.deepEqual((await readAll(store, { metric: 'cpu.v' }))[0]?.tags, { host: 'a', tenant: 'acme' });
    const other = await request(server).post('/api/v1/api/v2/write?precision=s').send('cpu,host=a,tenant=other v=1 1700000000');
    assert.equal(other.status, 403);
  });
});
