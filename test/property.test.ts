import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import Koa from 'koa';
import request from 'supertest';
import { geoPoint } from '../example-app/geo-point.js';
import { kairosdb, MemoryStore, TypeRegistry } from '../src/index.js';
import { body } from './arbitraries.js';
import { countPoints } from './helpers.js';
import { referenceValid } from './reference-validator.js';

describe('property: whatever the body, the answer is precise and nothing half-done', () => {
  it('never 500, 204 iff the reference validator accepts, nothing stored after a 400 (600 generated requests)', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('plain', 'gzip', 'application/gzip', 'deflate'), async (b, encoding) => {
        const text = JSON.stringify(b) ?? 'null';
        const parsed: unknown = JSON.parse(text);
        const types = new TypeRegistry();
        types.register(geoPoint);
        const store = new MemoryStore();
        const app = new Koa();
        app.use(kairosdb({ store, types }));
        let req = request(app.callback()).post('/api/v1/datapoints');
        let payload: string | Buffer = text;
        if (encoding === 'gzip') (req = req.set('Content-Encoding', 'gzip')), (payload = gzipSync(text));
        if (encoding === 'application/gzip') (req = req.set('Content-Type', 'application/gzip')), (payload = gzipSync(text));
        if (encoding === 'deflate') (req = req.set('Content-Encoding', 'deflate')), (payload = (await import('node:zlib')).deflateSync(text));
        const res = await req.serialize((x: unknown) => x as string).send(payload as string);
        const valid = referenceValid(parsed);
        assert.ok(res.status === 204 || res.status === 400, `status ${res.status} for ${text}`);
        assert.equal(res.status === 204, valid, `${res.status} but reference says ${valid} for ${text}: ${res.text}`);
        if (res.status === 400) {
          assert.ok(Array.isArray(res.body.errors) && res.body.errors.length > 0 && res.body.errors.length <= 100);
          assert.equal(await countPoints(store), 0);
        } else {
          accepted++;
        }
      }),
      { numRuns: 600, seed: 7 },
    );
    assert.ok(accepted > 60 && accepted < 540, `accepted ${accepted} of 600`);
  });
});
