// Property tests of the protocol parsers on random input: lines made from random parts (escapes included) read back
// as the parts, garbage never throws, and the protobuf reader ends on any bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { graphiteLine, hostTagMapping } from '../src/protocols/graphite.js';
import { InfluxReader, parseInflux, SeriesTexts } from '../src/protocols/influx.js';
import { openTsdbPoint } from '../src/protocols/opentsdb.js';
import { openTsdbBytes, TagTexts, TOO_MANY_NAMES } from '../src/protocols/opentsdb-bytes.js';
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

  it('reads a body in pieces cut at any of its newlines (as it arrives) the same as whole: points, origins, the failing line', async () => {
    const line = fc.oneof(
      { weight: 12, arbitrary: fc.record({ series: fc.integer({ min: 0, max: 6 }), value: fc.integer({ min: -99, max: 99 }), ts: fc.integer({ min: 0, max: 1e6 }) }).map((l) => `m${l.series % 2},host=h${l.series} v=${l.value}i ${l.ts}`) },
      { weight: 1, arbitrary: fc.constantFrom('', '# note', 'cpu v=x 1', 'cpu', '  m0,host=h1 w=1.5 2\r') },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), async (lines, cuts, trailing) => {
        const text = lines.join('\n') + (trailing ? '\n' : '');
        const bytes = Buffer.from(text);
        const newlines = [...bytes.keys()].filter((i) => bytes[i] === 10);
        const ends = [...new Set(cuts.filter(() => newlines.length > 0).map((c) => (newlines[c % newlines.length] as number) + 1))].sort((a, b) => a - b);
        const reader = new InfluxReader('ms', 0);
        let failed;
        let from = 0;
        for (const end of [...ends, bytes.length]) {
          failed = await reader.read(bytes.subarray(from, end), end === bytes.length);
          from = end;
          if (failed) break;
        }
        assert.deepEqual(failed ?? reader.parsed(), await parseInflux(text, 'ms', 0));
      }),
      { numRuns: 1000 },
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

describe('OpenTSDB put bodies read from their bytes against JSON.parse', () => {
  /** Each point as the route's JSON path makes it (openTsdbPoint), in body order. */
  const reference = (text: string) => (JSON.parse(text) as unknown[]).map(openTsdbPoint);
  /** One point of a metric or of the reference, as a comparable text (-0 kept apart from 0). */
  const key = (p: Record<string, unknown>) => JSON.stringify([p.name, p.tags, p.type, p.timestamp, Object.is(p.value, -0) ? '-0' : p.value]);
  /** The bytes reader's metrics, back to one point each. */
  const flattened = (metrics: Record<string, unknown>[]) =>
    metrics.flatMap((m) => (m.datapoints as [number, number][]).map(([timestamp, value]) => key({ name: m.name, tags: m.tags, type: m.type, timestamp, value })));
  const name = fc.string({ unit: fc.constantFrom('a', 'b', '.', '-', '_', ' ', '"', '\\', 'é', '0'), minLength: 0, maxLength: 5 });
  const ascii = fc.string({ unit: fc.constantFrom('a', 'b', '.', '-', ' ', '0'), minLength: 1, maxLength: 3 });
  /** Points as collectors write them (a few names, so that series repeat). */
  const clean = fc.record({
    metric: fc.oneof(ascii, fc.constantFrom('m1', 'm2')),
    timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 99 })),
    value: fc.oneof(fc.integer({ min: -1e12, max: 1e12 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1.5e-7, 12345.678, 2 ** 60, 1e300)),
    tags: fc.oneof(fc.dictionary(ascii, ascii, { minKeys: 1, maxKeys: 2 }), fc.constantFrom({ h: 'a' }, { h: 'b', dc: 'x' })),
  });
  const dirty = fc.record(
    {
      metric: fc.oneof(name, fc.constant(7)),
      timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.constant(-1), fc.constant(1.5), fc.constant('1')),
      value: fc.oneof(fc.integer({ min: -1e12, max: 1e12 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant('3'), fc.constant(2 ** 60)),
      tags: fc.oneof(fc.dictionary(name, name, { maxKeys: 3 }), fc.constant('x')),
      extra: fc.boolean(),
    },
    { requiredKeys: ['metric', 'timestamp', 'value', 'tags'] },
  );
  it('reads a body as JSON.parse and openTsdbPoint do, point for point, or leaves it to them', async () => {
    const known = new TagTexts();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof({ arbitrary: clean, weight: 19 }, { arbitrary: dirty, weight: 1 }), { maxLength: 12 }), fc.constantFrom('', ' ', '\n  '), async (points, gap) => {
        const text = JSON.stringify(points.map((p) => ('extra' in p && p.extra ? { ...p, extra: undefined, other: 1 } : { ...p, extra: undefined })), null, gap);
        const read = await openTsdbBytes(Buffer.from(text));
        assert.deepEqual(await openTsdbBytes(Buffer.from(text), known), read, 'the tag sets of earlier bodies kept (as the route keeps them): the same');
        if (!read) return;
        assert.notEqual(read, TOO_MANY_NAMES, 'no limit given');
        if (read === TOO_MANY_NAMES) return;
        const expected = reference(text);
        assert.ok(expected.every((p) => typeof p !== 'string'), `took a body with a bad point: ${text}`);
        assert.equal(read.points, expected.length);
        // Grouping keeps each series' points in body order: compared as the same points, in any order.
        assert.deepEqual(flattened(read.metrics).sort(), (expected as Record<string, unknown>[]).map(key).sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('answers undefined for anything JSON.parse refuses, and never throws', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', ':', ',', ' ', 'metric', 'timestamp', 'value', 'tags', '1', '-', '.', 'e', 'a', '0'), maxLength: 60 }), async (text) => {
        const read = await openTsdbBytes(Buffer.from(text));
        if (read) assert.doesNotThrow(() => JSON.parse(text), text);
      }),
      { numRuns: 5000 },
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
