import fc from 'fast-check';

/** Generators of Add Data Points bodies: mostly valid, with every kind of invalid field now and then. */
export const scalar = fc.constantFrom<unknown>(
  undefined, null, '', 'abc', '12', '-5', '+5', '12.5', '.5', '1e400', '12345678901234567890', 'x\ud800',
  0, -1, 1.5, -0.5, 2 ** 53, 2 ** 60, 1e300, true, false, [], [1], {}, { real: 1, imaginary: 2 },
  { real: '1', imaginary: 'x' }, { lat: 10, lon: 20 }, { lat: 91, lon: 0 },
);
const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: scalar, weight: 1 });
const goodValue = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.boolean());
const typeName = fc.constantFrom<unknown>(undefined, null, 'long', 'double', 'string', 'complex', 'complex-number', 'geo-point', 'nope', 5);
const goodTime = fc.oneof(fc.integer(), fc.constantFrom('1234', 12.7, -0.5));
const datapoint = fc.oneof(
  { arbitrary: fc.tuple(mostly(goodTime), mostly(goodValue)), weight: 10 },
  { arbitrary: fc.tuple(mostly(goodTime), scalar, typeName), weight: 1 },
  { arbitrary: fc.array(scalar, { maxLength: 1 }), weight: 1 },
  { arbitrary: scalar, weight: 1 },
);
const tagName = fc.oneof({ arbitrary: fc.constantFrom('host', 'dc', '__proto__', 'constructor'), weight: 12 }, { arbitrary: fc.constantFrom('', 'x\udc00'), weight: 1 });
/** Tag values, with texts that equal other values' texts ("5" and 5; "Infinity", valid, and Infinity, not). */
const tagValue = fc.oneof(fc.string({ minLength: 1 }), fc.integer({ min: -9, max: 9 }), fc.constantFrom<unknown>('5', 'Infinity', 'true', true, Infinity));
const tags = mostly(fc.dictionary(tagName, mostly(tagValue), { minKeys: 1, maxKeys: 3 }));
export const metric = fc.record(
  {
    name: mostly(fc.constantFrom('m', 'n', 'cpu load', '指標')),
    tags,
    type: fc.oneof({ arbitrary: fc.constant(undefined), weight: 12 }, { arbitrary: typeName, weight: 1 }),
    timestamp: mostly(goodTime),
    time: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: mostly(goodTime), weight: 1 }),
    value: mostly(goodValue),
    ttl: fc.constantFrom<unknown>(undefined, undefined, undefined, 0, 300, '30', -1, 1.5, 630720001, 'x'),
    datapoints: mostly(fc.array(datapoint, { maxLength: 4 })),
  },
  { requiredKeys: ['name', 'tags'] },
);
export const body = fc.oneof({ arbitrary: fc.array(metric, { maxLength: 3 }), weight: 8 }, { arbitrary: metric, weight: 2 }, { arbitrary: scalar, weight: 1 });

