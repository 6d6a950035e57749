import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { countPoints, KOAS, mount } from './helpers.js';

const tags = { h: 'a' };

for (const [label, Koa] of KOAS.slice(0, 1)) {
  describe(`hostile input (${label}): precise answer, server still serves, bounded memory`, () => {
    const cases: [string, string | Buffer, Record<string, string>, number, RegExp][] = [
      ['100,000-deep nesting', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, {}, 400, /^Invalid json. The body nests arrays and objects deeper than 64 levels/],
      ['100,000-deep objects', `[${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}]`, {}, 400, /^Invalid json. The body nests arrays and objects deeper than 64 levels/],
      ['invalid UTF-8', Buffer.from([0x5b, 0xc3, 0x28, 0x5d]), {}, 400, /not valid UTF-8/],
      ['a lone surrogate in a tag value', '[{"name":"m","tags":{"h":"\\udc00"},"timestamp":1,"value":1}]', {}, 400, /tag\[h\]\.value must be a string, number or boolean/],
      ['__proto__ as a metric field', '[{"__proto__":{"name":"x"},"tags":{"h":"a"},"timestamp":1,"value":1}]', {}, 400, /^metric\[0\]\.name may not be null\.$/],
      ['__proto__ in a complex value', '[{"name":"m","type":"complex","tags":{"h":"a"},"datapoints":[[1,{"__proto__":{"real":1},"imaginary":2}]]}]', {}, 400, /not a valid value of type 'complex-number'/],
      ['an unsafe integer timestamp', '[{"name":"m","tags":{"h":"a"},"timestamp":9007199254740993,"value":1}]', {}, 400, /timestamp must be an integer/],
      ['truncated gzip', gzipSync('[]').subarray(0, 10), { 'Content-Encoding': 'gzip' }, 400, /^Invalid gzip body/],
      ['an unsupported encoding', '[]', { 'Content-Encoding': 'compress' }, 415, /Unsupported Content-Encoding: compress/],
    ];
    for (const [title, payload, headers, status, message] of cases) {
      it(`${title} → ${status}`, async () => {
        const { post, store } = mount(Koa);
        const res = await post(payload, headers);
        assert.equal(res.status, status, res.text.slice(0, 300));
        assert.match(res.body.errors[0], message);
        assert.equal(await countPoints(store), 0);
        assert.equal(Object.getPrototypeOf({}), Object.prototype);
        assert.equal(({} as Record<string, unknown>).name, undefined);
        assert.equal((await post([{ name: 'after', tags, timestamp: 1, value: 1 }])).status, 204);
      });
    }

    it('200,000 invalid points: 100 messages, a small answer, bounded time', async () => {
      const { post, store } = mount(Koa);
      const started = performance.now();
      const res = await post([{ name: 'm', tags, datapoints: Array.from({ length: 200_000 }, () => [null, {}]) }]);
      const ms = performance.now() - started;
      assert.equal(res.status, 400);
      assert.equal(res.body.errors.length, 100);
      assert.match(res.body.errors[99], /^At least \d+ more errors were not reported\.$/);
      assert.ok(res.text.length < 10_000, `${res.text.length} bytes`);
      assert.equal(await countPoints(store), 0);
      console.log(`200,000 invalid points answered in ${ms.toFixed(0)} ms`);
    });

    it('wrong methods on its routes → 405 with Allow', async () => {
      const { app } = mount(Koa);
      const request = (await import('supertest')).default;
      for (const [method, path, allow] of [['put', '/api/v1/datapoints', 'POST'], ['delete', '/api/v1/datapoints/query', 'POST, GET'], ['post', '/api/v1/version', 'GET']] as const) {
        const res = await request(app.callback())[method](path);
        assert.equal(res.status, 405);
        assert.equal(res.headers.allow, allow);
      }
    });
  });
}
