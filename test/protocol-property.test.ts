// Property tests of the protocol parsers on random input: lines made from random parts (escapes included) read back
// as the parts, garbage never throws, and the protobuf reader ends on any bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { graphiteLine, hostTagMapping } from '../src/protocols/graphite.js';
import { parseInflux, SeriesTexts } from '../src/protocols/influx.js';
import { ProtobufError } from '../src/protocols/protobuf.js';
import { remoteWriteMetrics } from '../src/protocols/remote-write.js';
import { readRequest } from '../src/protocols/remote-read.js';
import { telnetLine } from '../src/protocols/telnet.js';

/** Names and values with the characters Influx escapes, and others. */
const part = fc.string({ unit: fc.constantFrom('a', 'b', 'z', '0', '9', '.', '-', '_', ' ', ',', '=', '\\', 'é', '"'), minLength: 1, maxLength: 8 });
const escape = (text: string, chars: string) => text.replace(new RegExp(`[${chars.replace(/[\\\]]/g, '\\$&')}]`, 'g'), (c) => `\\${c}`);

/** The naive reference: what a line made of these parts means, written the way the protocol documents it. */
const influxCase = fc.record({
  measurement: part.filter((m) => !m.startsWith('#') && !m.endsWith('\\')),
  tags: fc.dictionary(part.filter((k) => !k.endsWith('\\')), part.filter((v) => !v.endsWith('\\')), { maxKeys: 3, noNullPrototype: true }),
  fields: fc.dictionary(part.filter((k) => !k.endsWith('\\')), fc.oneof(fc.integer({ min: -1e12, max: 1e12 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), part), { minKeys: 1, maxKeys: 3, noNullPrototype: true }),
  timestamp: fc.integer({ min: 0, max: 4_000_000_000_000 }),
});

describe('Influx parser against the meaning of random lines', () => {
  it('reads back every measurement, tag, field and timestamp (escapes, quotes, integers, floats, strings)', async () => {
    await fc.assert(
      fc.asyncProperty(influxCase, async ({ measurement, tags, fields, timestamp }) => {
        const tagText = Object.entries(tags).map(([k, v]) => `,${escape(k, ' ,=\\')}=${escape(v, ' ,=\\')}`).join('');
        const fieldText = Object.entries(fields)
          .map(([k, v]) => `${escape(k, ' ,=\\')}=${typeof v === 'string' ? `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"` : Number.isInteger(v) ? `${v}i` : String(v)}`)
          .join(',');
        const parsed = await parseInflux(`${escape(measurement, ' ,\\')}${tagText} ${fieldText} ${timestamp}`, 'ms', 0);
        assert.ok(parsed.ok, JSON.stringify(parsed));
        const expectedTags = Object.keys(tags).length > 0 ? tags : { add: 'tag' };
        const expected = Object.entries(fields).map(([k, v]) => ({
          name: `${measurement}.${k}`,
          tags: expectedTags,
          type: typeof v === 'string' ? 'string' : Number.isInteger(v) ? 'long' : 'double',
          datapoints: [[timestamp, v === 0 ? 0 : v]],
        }));
        assert.deepEqual(parsed.metrics.map((m) => ({ ...m, tags: { ...(m.tags as object) } })), expected);
      }),
      { numRuns: 500 },
    );
  });

  it('reads a body the same with the series texts of earlier bodies kept (as the route keeps them) as without', async () => {
    const known = new SeriesTexts();
    const line = fc.record({ series: fc.integer({ min: 0, max: 30 }), field: fc.constantFrom('v', 'w', 'usage_idle'), value: fc.oneof(fc.integer({ min: -1e6, max: 1e6 }).map((n) => `${n}i`), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map(String), fc.constantFrom('"up"', 't')), ts: fc.integer({ min: 0, max: 1e12 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 40 }), async (lines) => {
        const text = lines.map((l) => `m${l.series % 3},host=h${l.series},dc=d${l.series % 2} ${l.field}=${l.value} ${l.ts}`).join('\n');
        assert.deepEqual(await parseInflux(text, 'ms', 0, Infinity, known), await parseInflux(text, 'ms', 0));
      }),
      { numRuns: 500 },
    );
  });

  it('answers any text with metrics or a line number and a reason, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom('a', ' ', ',', '=', '"', '\\', '\n', '1', 'i', '.', '-', '#', 't'), maxLength: 80 }), async (text) => {
        const parsed = await parseInflux(text, 'ns', 0);
        if (!parsed.ok) assert.ok(parsed.line >= 1 && parsed.message.length > 0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('telnet and Graphite lines on random words', () => {
  it('never throw, and a put of numbers and tags is read as written', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('p', 'u', 't', 'm', '=', '1', '.', 'x', '-'), maxLength: 6 }), { maxLength: 7 }), (words) => {
        telnetLine(words);
        graphiteLine(words, hostTagMapping);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 3_000_000_000, max: 4_000_000_000_000 }), fc.integer({ min: -1e12, max: 1e12 }), fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.stringMatching(/^[a-z0-9]{1,5}$/), { minKeys: 1, maxKeys: 4, noNullPrototype: true }), (ts, value, tags) => {
        const result = telnetLine(['put', 'm', String(ts), String(value), ...Object.entries(tags).map(([k, v]) => `${k}=${v}`)]);
        assert.deepEqual(result, { metric: { name: 'm', timestamp: ts, tags, value, type: 'long' } });
      }),
    );
  });
});

describe('protobuf reader on random bytes', () => {
  it('ends on any bytes with a result or a ProtobufError, never another throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const decode of [remoteWriteMetrics, readRequest]) {
          try {
            decode(Buffer.from(bytes));
          } catch (error) {
            assert.ok(error instanceof ProtobufError, String(error));
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
