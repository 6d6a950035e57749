import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countPoints, KOAS, mount } from './helpers.js';

const tags = { host: 'a' };
const MAX = Number.MAX_SAFE_INTEGER;

/** SPEC §1.6 and the rules of §1.3–1.4: body → the exact error list of the 400 answer. */
const REJECTED: [string, string | unknown, string[]][] = [
  ['empty body', '', ['Invalid json. No content due to end of input.']],
  ['whitespace body', ' \n\t ', ['Invalid json. No content due to end of input.']],
  ['a number at the top level', '42', ['Invalid start of json.']],
  ['a string at the top level', '"x"', ['Invalid start of json.']],
  ['a syntax error', '[{"name": }]', ['Invalid json. ']],
  ['name absent', [{ tags, timestamp: 1, value: 1 }], ['metric[0].name may not be null.']],
  ['name null', [{ name: null, tags, timestamp: 1, value: 1 }], ['metric[0].name may not be null.']],
  ['name empty', [{ name: '', tags, timestamp: 1, value: 1 }], ['metric[0].name may not be empty.']],
  ['name an object', [{ name: {}, tags, timestamp: 1, value: 1 }], ['metric[0].name must be a string.']],
  ['timestamp without value', [{ name: 'm', tags, timestamp: 1 }], ['metric[0](name=m).value may not be null.']],
  ['value null', [{ name: 'm', tags, timestamp: 1, value: null }], ['metric[0](name=m).value may not be empty.']],
  ['value empty string', [{ name: 'm', tags, timestamp: 1, value: '' }], ['metric[0](name=m).value may not be empty.']],
  ['value empty array', [{ name: 'm', tags, timestamp: 1, value: [] }], ['metric[0](name=m).value may not be an empty array.']],
  ['value without timestamp', [{ name: 'm', tags, value: 1 }], ['metric[0](name=m).timestamp may not be null.']],
  ['tags absent', [{ name: 'm', timestamp: 1, value: 1 }], ['metric[0](name=m).tags count must be greater than or equal to 1.']],
  ['tags null', [{ name: 'm', tags: null, timestamp: 1, value: 1 }], ['metric[0](name=m).tags count must be greater than or equal to 1.']],
  ['tags empty', [{ name: 'm', tags: {}, timestamp: 1, value: 1 }], ['metric[0](name=m).tags count must be greater than or equal to 1.']],
  ['tags an array', [{ name: 'm', tags: ['a'], timestamp: 1, value: 1 }], ['metric[0](name=m).tags count must be greater than or equal to 1.']],
  ['tag name empty', [{ name: 'm', tags: { a: 'x', '': 'y' }, timestamp: 1, value: 1 }], ['metric[0](name=m).tag[1].name may not be empty.']],
  ['tag value empty', [{ name: 'm', tags: { host: '' }, timestamp: 1, value: 1 }], ['metric[0](name=m).tag[host].value may not be empty.']],
  ['tag value null', [{ name: 'm', tags: { host: null }, timestamp: 1, value: 1 }], ['metric[0](name=m).tag[host].value may not be null.']],
  ['tag value an object', [{ name: 'm', tags: { host: {} }, timestamp: 1, value: 1 }], ['metric[0](name=m).tag[host].value must be a string, number or boolean.']],
  ['object value without type', [{ name: 'm', tags, timestamp: 1, value: { a: 1 } }], ['metric[0](name=m) value is an invalid type']],
  ['array value without type', [{ name: 'm', tags, timestamp: 1, value: [1] }], ['metric[0](name=m) value is an invalid type']],
  ['unknown metric type', [{ name: 'm', tags, type: 'geo', timestamp: 1, value: 1 }], ["Unregistered data point type 'geo'"]],
  ['unknown point type', [{ name: 'm', tags, datapoints: [[1, 1, 'geo']] }], ["Unregistered data point type 'geo'"]],
  ['datapoint []', [{ name: 'm', tags, datapoints: [[]] }], ['metric[0](name=m).datapoints[0].timestamp cannot be null or empty.']],
  ['datapoint [ts]', [{ name: 'm', tags, datapoints: [[1, 1], [1]] }], ['metric[0](name=m).datapoints[1].value cannot be null or empty.']],
  ['datapoint [null, v]', [{ name: 'm', tags, datapoints: [[null, 1]] }], ['metric[0](name=m).datapoints[0].timestamp may not be null.']],
  ['datapoint [ts, null]', [{ name: 'm', tags, datapoints: [[1, null]] }], ['metric[0](name=m).datapoints[0].value may not be empty.']],
  ['datapoint [ts, ""]', [{ name: 'm', tags, datapoints: [[1, '']] }], ['metric[0](name=m).datapoints[0].value may not be empty.']],
  ['datapoint [ts, []]', [{ name: 'm', tags, datapoints: [[1, []]] }], ['metric[0](name=m).datapoints[0].value may not be an empty array.']],
  ['datapoint object value without type: no datapoint index, as KairosDB', [{ name: 'm', tags, datapoints: [[1, {}]] }], ['metric[0](name=m) value is an invalid type']],
  ['datapoint not an array', [{ name: 'm', tags, datapoints: [5] }], ['metric[0](name=m).datapoints[0] must be an array of [timestamp, value] or [timestamp, value, type].']],
  ['datapoints not an array', [{ name: 'm', tags, datapoints: {} }], ['metric[0](name=m).datapoints must be an array.']],
  ['timestamp not a number', [{ name: 'm', tags, timestamp: 'soon', value: 1 }], [`metric[0](name=m).timestamp must be an integer number of milliseconds between -${MAX} and ${MAX}.`]],
  ['timestamp a string in exponent notation (Long.parseLong refuses it)', [{ name: 'm', tags, timestamp: '1e3', value: 1 }], [`metric[0](name=m).timestamp must be an integer number of milliseconds between -${MAX} and ${MAX}.`]],
  ['datapoint timestamps "12.5" and "0x10" as strings', [{ name: 'm', tags, datapoints: [['12.5', 1], ['0x10', 2]] }], [
    `metric[0](name=m).datapoints[0].timestamp must be an integer number of milliseconds between -${MAX} and ${MAX}.`,
    `metric[0](name=m).datapoints[1].timestamp must be an integer number of milliseconds between -${MAX} and ${MAX}.`,
  ]],
  ['timestamp beyond 2^53-1', [{ name: 'm', tags, timestamp: 2 ** 60, value: 1 }], [`metric[0](name=m).timestamp must be an integer number of milliseconds between -${MAX} and ${MAX}.`]],
  ['datapoint timestamp a boolean', [{ name: 'm', tags, datapoints: [[true, 1]] }], [`metric[0](name=m).datapoints[0].timestamp must be an integer number of milliseconds between -${MAX} and ${MAX}.`]],
  ['ttl negative', [{ name: 'm', tags, ttl: -1, timestamp: 1, value: 1 }], ['metric[0](name=m).ttl must be an integer between 0 and 630720000.']],
  ['ttl fractional', [{ name: 'm', tags, ttl: 1.5, timestamp: 1, value: 1 }], ['metric[0](name=m).ttl must be an integer between 0 and 630720000.']],
  ['ttl above 20 years', [{ name: 'm', tags, ttl: 630720001, timestamp: 1, value: 1 }], ['metric[0](name=m).ttl must be an integer between 0 and 630720000.']],
  // Longs are exact to 64 bits (#31 row 1): 9007199254740993 is stored; beyond ±(2^63−1), or an integer whose digits JSON.parse already lost (exponent form), is refused.
  ['integer beyond 64 bits', '[{"name":"m","tags":{"h":"a"},"timestamp":1,"value":9223372036854775808}]', [`metric[0](name=m).value is an integer outside the 64-bit range of a long (-9223372036854775808 to 9223372036854775807); send it with type "double" to store it rounded.`]],
  ['integer string beyond 64 bits', [{ name: 'm', tags, datapoints: [[1, '12345678901234567890']] }], [`metric[0](name=m).datapoints[0].value is an integer outside the 64-bit range of a long (-9223372036854775808 to 9223372036854775807); send it with type "double" to store it rounded.`]],
  ['unsafe integer in exponent form', '[{"name":"m","tags":{"h":"a"},"timestamp":1,"value":1e17}]', [`metric[0](name=m).value is an integer outside ±${MAX} and cannot be stored exactly; send it with type "double" to store it rounded.`]],
  ['a number overflowing to Infinity', '[{"name":"m","tags":{"h":"a"},"timestamp":1,"value":1e400}]', ['metric[0](name=m).value must be a finite number.']],
  ['long with "abc"', [{ name: 'm', tags, type: 'long', datapoints: [[1, 'abc']] }], ["metric[0](name=m).datapoints[0].value is not a valid value of type 'long'."]],
  ['long with a fraction', [{ name: 'm', tags, type: 'long', timestamp: 1, value: 1.5 }], ["metric[0](name=m).value is not a valid value of type 'long'."]],
  ['complex-number with 5', [{ name: 'm', tags, type: 'complex-number', datapoints: [[1, 5]] }], ["metric[0](name=m).datapoints[0].value is not a valid value of type 'complex-number'."]],
  ['complex without imaginary', [{ name: 'm', tags, type: 'complex', datapoints: [[1, { real: 1 }]] }], ["metric[0](name=m).datapoints[0].value is not a valid value of type 'complex-number'."]],
  ['metric not an object', [5], ['metric[0] must be an object.']],
  ['lone surrogate in a name', '[{"name":"m\\ud800","tags":{"h":"a"},"timestamp":1,"value":1}]', ['metric[0].name must be well-formed Unicode (it contains a lone surrogate).']],
  [
    'all errors of all metrics, in order',
    [
      { name: '', tags: { a: '', '': 'x' }, datapoints: [[1, {}], []] },
      { name: 'ok', tags, timestamp: 1, value: 1 },
      { name: 'm', value: 1, tags: {}, type: 'nope' },
    ],
    [
      'metric[0].name may not be empty.',
      'metric[0].tag[a].value may not be empty.',
      'metric[0].tag[1].name may not be empty.',
      'metric[0] value is an invalid type',
      'metric[0].datapoints[1].timestamp cannot be null or empty.',
      'metric[2](name=m).timestamp may not be null.',
      'metric[2](name=m).tags count must be greater than or equal to 1.',
      "Unregistered data point type 'nope'",
    ],
  ],
];

for (const [label, Koa] of KOAS) {
  describe(`POST /datapoints rejects invalid bodies with KairosDB's messages (${label})`, () => {
    for (const [title, body, errors] of REJECTED) {
      it(`${title} → 400`, async () => {
        const { post, store } = mount(Koa);
        const valid = { name: 'valid.before', tags, datapoints: [[1, 1]] };
        const sent = typeof body === 'string' ? body : JSON.stringify(Array.isArray(body) && body.length > 0 ? [...body] : body);
        const res = await post(sent, { 'Content-Type': 'application/json' });
        assert.equal(res.status, 400);
        assert.match(res.headers['content-type'] ?? '', /^application\/json/);
        if (title === 'a syntax error') {
          assert.equal(res.body.errors.length, 1);
          assert.ok(res.body.errors[0].startsWith('Invalid json. '), res.body.errors[0]);
        } else {
          assert.deepEqual(res.body.errors, errors);
        }
        assert.equal(await countPoints(store), 0);
        void valid;
      });
    }

    it('writes nothing of a body whose last point is bad (atomicity)', async () => {
      const { post, store } = mount(Koa);
      const points = Array.from({ length: 1000 }, (_, i) => [i, i]);
      const res = await post([{ name: 'good', tags, datapoints: points }, { name: 'bad', tags, datapoints: [[1, 1], [2, {}]] }]);
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.errors, ['metric[1](name=bad) value is an invalid type']);
      assert.equal(await countPoints(store), 0);
    });

    it('caps the error list at maxErrors, the last message counting the rest', async () => {
      const { post } = mount(Koa, { maxErrors: 5 });
      const res = await post([{ name: 'm', tags, datapoints: Array.from({ length: 20 }, () => [null, 1]) }]);
      assert.equal(res.status, 400);
      assert.equal(res.body.errors.length, 5);
      assert.equal(res.body.errors[3], 'metric[0](name=m).datapoints[3].timestamp may not be null.');
      assert.equal(res.body.errors[4], '16 more errors were not reported.');
      const exact = await post([{ name: 'm', tags, datapoints: Array.from({ length: 5 }, () => [null, 1]) }]);
      assert.equal(exact.body.errors.length, 5);
      assert.equal(exact.body.errors[4], 'metric[0](name=m).datapoints[4].timestamp may not be null.');
    });
  });
}
