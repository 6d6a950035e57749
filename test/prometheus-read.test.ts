import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import snappy from 'snappy';
import request from 'supertest';
import { kairosdb, MemoryStore, type KairosdbOptions } from '../src/index.js';
import { ProtobufReader, ProtobufWriter } from '../src/protocols/protobuf.js';
import { MAX_PATTERN_LENGTH, regexCompiler } from '../src/protocols/regex.js';
import { literalAlternatives, matcherTest, type LabelMatcher } from '../src/protocols/remote-read.js';
import type { SeriesQuery, Store } from '../src/store-api/contract.js';
import { wrapStore } from './helpers.js';
import { series } from '../src/store-api/conformance.js';

describe('remote read matchers (linear-time regular expressions)', () => {
  const compile = regexCompiler();
  const cases: [LabelMatcher['type'], string, [string, boolean][]][] = [
    [0, 'a', [['a', true], ['ab', false], ['', false]]],
    [1, 'a', [['a', false], ['b', true]]],
    [2, 'web1|web2', [['web1', true], ['web2', true], ['web12', false], ['xweb1', false]]],
    [2, '.*', [['', true], ['anything', true]]],
    [2, '.+', [['', false], ['x', true]]],
    [2, 'web.*', [['web', true], ['web9', true], ['we', false]]],
    [2, '.*-prod', [['eu-prod', true], ['-prod', true], ['prod', false]]],
    [2, 'a.+b.*c', [['axbc', true], ['abc', false], ['axbyyc', true], ['axbycz', false]]],
    [2, 'a\\.b', [['a.b', true], ['axb', false]]],
    [3, 'web1|web2', [['web1', false], ['web3', true]]],
    [2, 'web-[0-9]+', [['web-12', true], ['web-', false], ['web-1x', false], ['xweb-1', false]]],
    [2, '(a|b)c', [['ac', true], ['bc', true], ['c', false], ['abc', false]]],
    [2, 'a|ab', [['a', true], ['ab', true], ['abc', false]]],
    [2, '\\d{2,3}', [['12', true], ['123', true], ['1', false], ['1234', false]]],
    [2, '^a$', [['a', true], ['ba', false]]],
    [2, '(?i)WEB.*', [['web1', true], ['Web', true], ['we', false]]],
    [2, 'a.b', [['a\nb', true], ['axb', true], ['ab', false]]],
    [2, 'a|', [['a', true], ['', true], ['b', false]]],
    [3, '.+', [['', true], ['x', false]]],
  ];
  for (const [type, value, expectations] of cases) {
    it(`${['=', '!=', '=~', '!~'][type]}"${value}"`, () => {
      const test = matcherTest({ type, name: 'l', value }, compile);
      assert.equal(typeof test, 'function');
      for (const [input, expected] of expectations) assert.equal((test as (v: string) => boolean)(input), expected, input);
    });
  }
  it('knows a pattern of literal alternatives, which the tag index can select', () => {
    assert.deepEqual(literalAlternatives('web1|web2'), ['web1', 'web2']);
    assert.deepEqual(literalAlternatives('a\\.b'), ['a.b']);
    for (const pattern of ['web.*', '.+', 'a|', 'a|b.*']) assert.equal(literalAlternatives(pattern), undefined, pattern);
  });

  it('refuses a pattern that does not parse, or a longer one than it compiles, with a 400 saying so', () => {
    for (const value of ['(a|b', 'a{2,1}', 'x{1001}', '(a)\\1', '[z-a]', 'a**']) {
      assert.throws(() => matcherTest({ type: 2, name: 'l', value }, compile), (e: Error & { status?: number }) => e.status === 400 && e.message.includes(`'${value}' is not valid`), value);
    }
    const long = 'a'.repeat(MAX_PATTERN_LENGTH) + '.*';
    assert.throws(() => matcherTest({ type: 3, name: 'l', value: long }, compile), /at most 4096 are taken/);
    const manyLiterals = Array.from({ length: 2000 }, (_, i) => `host${i}`).join('|');
    assert.equal(matcherTest({ type: 2, name: 'l', value: manyLiterals }, compile)('host1999'), true);
  });
  it('matches in time linear in the value: patterns that backtracking engines take exponential time on', () => {
    for (const [pattern, value] of [['(a|aa)*c', 'a'.repeat(30)], ['(x+x+)+y', 'x'.repeat(30)], ['(.*a){12}', 'a'.repeat(40)]] as const) {
      const test = matcherTest({ type: 2, name: 'l', value: pattern }, compile);
      const started = performance.now();
      test(value);
      assert.ok(performance.now() - started < 200, `${pattern}: ${performance.now() - started} ms`);
    }
  });
  it('matches a 4096-character value against a long pattern quickly', () => {
    const test = matcherTest({ type: 2, name: 'l', value: `${'a.*'.repeat(50)}b` }, compile);
    const started = performance.now();
    assert.equal(test('a'.repeat(4096)), false);
    assert.ok(performance.now() - started < 50);
  });
});

/** A ReadRequest of one query, asking for SAMPLES (written with the library's writer). */
function readRequestBody(start: number, end: number, matchers: [number, string, string][]): Buffer {
  const w = new ProtobufWriter();
  w.message(1, (q) => {
    q.int64(1, start).int64(2, end);
    for (const [type, name, value] of matchers) q.message(3, (m) => m.int64(1, type).string(2, name).string(3, value));
  });
  return w.int64(2, 0).finish();
}

/** The series of a ReadResponse: labels and samples. */
function decodeResponse(bytes: Buffer) {
  const out: { labels: Record<string, string>; samples: [number, number][] }[] = [];
  const response = new ProtobufReader(bytes);
  while (!response.done) {
    response.tag();
    const result = response.message();
    while (!result.done) {
      result.tag();
      const ts = result.message();
      const entry = { labels: {} as Record<string, string>, samples: [] as [number, number][] };
      while (!ts.done) {
        const { field } = ts.tag();
        const inner = ts.message();
        if (field === 1) {
          inner.tag();
          const name = inner.string();
          inner.tag();
          entry.labels[name] = inner.string();
        } else {
          inner.tag();
          const value = inner.double();
          inner.tag();
          entry.samples.push([inner.int64(), value]);
        }
      }
      out.push(entry);
    }
  }
  return out;
}

async function app(options: Partial<KairosdbOptions> = {}, wrap: (store: Store) => Store = (store) => store) {
  const store = new MemoryStore();
  await store.write([
    series('up', { job: 'node', instance: 'a' }, [[1000, 1], [2000, 1]], { storage: 'double', type: 'double' }),
    series('up', { job: 'node', instance: 'b' }, [[1000, 0]], { storage: 'double', type: 'double' }),
    series('up', { job: 'db', instance: 'c' }, [[1000, 1]], { storage: 'double', type: 'double' }),
    series('up', { job: 'node', instance: 'a' }, [[1500, 5]]),
    series('notes', { job: 'node' }, [[1000, 'text']], { storage: 'string', type: 'string' }),
  ]);
  const koa = new Koa();
  koa.use(kairosdb({ store: wrap(store), routes: { prometheus: true }, ...options }));
  const read = (body: Buffer) =>
    request(koa.callback()).post('/api/v1/read').set('Content-Type', 'application/x-protobuf').set('Content-Encoding', 'snappy').send(snappy.compressSync(body)).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
  return { read };
}

describe('Prometheus remote read (POST /read)', () => {
  it('answers the series the matchers select, labels sorted with __name__, a long and a double series of one tag set merged', async () => {
    const { read } = await app();
    const res = await read(readRequestBody(0, 5000, [[0, '__name__', 'up'], [0, 'job', 'node'], [3, 'instance', 'b']]));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-protobuf');
    assert.equal(res.headers['content-encoding'], 'snappy');
    const answer = decodeResponse(snappy.uncompressSync(res.body as Buffer, { asBuffer: true }) as Buffer);
    assert.deepEqual(answer, [{ labels: { __name__: 'up', instance: 'a', job: 'node' }, samples: [[1000, 1], [1500, 5], [2000, 1]] }]);
    const regex = decodeResponse(snappy.uncompressSync((await read(readRequestBody(0, 5000, [[2, '__name__', 'u.*'], [2, 'instance', 'b|c']]))).body as Buffer, { asBuffer: true }) as Buffer);
    assert.deepEqual(regex.map((s) => s.labels.instance).sort(), ['b', 'c']);
  });

  it('selects =~ literal alternatives (names and tags) through the index, without listing names or reading other series', async () => {
    const reads: SeriesQuery[] = [];
    let listed = 0;
    const { read } = await app({}, (inner) =>
      wrapStore(inner, {
        read: (q: SeriesQuery) => (reads.push(q), inner.read(q)),
        metricNames: (prefix?: string) => (listed++, inner.metricNames(prefix)),
      }),
    );
    const res = await read(readRequestBody(0, 5000, [[2, '__name__', 'up|down'], [2, 'instance', 'b|c'], [2, 'instance', 'c|d']]));
    const answer = decodeResponse(snappy.uncompressSync(res.body as Buffer, { asBuffer: true }) as Buffer);
    assert.deepEqual(answer.map((s) => s.labels.instance), ['c']);
    assert.equal(listed, 0);
    assert.deepEqual(reads.map((q) => [q.metric, { ...q.tags }]), [['up', { instance: ['c'] }], ['down', { instance: ['c'] }]]);
  });

  it('keeps a tenant to its own series, and answers 400 to a regular expression that does not parse', async () => {
    const { read } = await app({ tenant: () => 'other' });
    const res = await read(readRequestBody(0, 5000, [[0, '__name__', 'up']]));
    assert.deepEqual(decodeResponse(snappy.uncompressSync(res.body as Buffer, { asBuffer: true }) as Buffer), []);
    const { read: plain } = await app();
    const bad = await plain(readRequestBody(0, 5000, [[0, '__name__', 'up'], [2, 'instance', '(a|b+']]));
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body.toString()).errors[0], /the regular expression '\(a\|b\+' is not valid: .*missing closing \)/);
    const classes = decodeResponse(snappy.uncompressSync((await plain(readRequestBody(0, 5000, [[0, '__name__', 'up'], [2, 'instance', '[b-c]+']]))).body as Buffer, { asBuffer: true }) as Buffer);
    assert.deepEqual(classes.map((s) => s.labels.instance).sort(), ['b', 'c']);
  });
});
