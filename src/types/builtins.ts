import { bigint, boolean, coerce, define, number, refine, string, type, union } from 'superstruct';
import { isNumericString, toFiniteNumber, toLong } from './numbers.js';
import type { StoredValue, ValueType } from './value-type.js';

const FiniteNumber = refine(number(), 'finite number', (n) => Number.isFinite(n));

/** A long: an integer within the signed 64-bit range (exact beyond ±(2^53−1) as a BigInt), or an integer numeric string. */
const LongStruct = define<number | bigint>('long', (v) => toLong(v) !== undefined);
const DoubleStruct = coerce(FiniteNumber, union([string(), bigint()]), (s) => (typeof s === 'bigint' ? Number(s) : isNumericString(s) ? Number(s) : s));
/** A number's digits as the client sent them: an integer that JSON.parse rounded (beyond ±(2^53−1)) has lost them. */
const exactText = (v: number | boolean | bigint) => (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v) ? undefined : String(v));

const StringStruct = coerce(
  refine(string(), 'well-formed', (s) => s.isWellFormed()),
  union([number(), boolean(), bigint()]),
  (v) => exactText(v) ?? v,
);
const ComplexStruct = type({ real: DoubleStruct, imaginary: DoubleStruct });

/** A complex number as the built-in `complex-number` type reads and prints it. */
export interface Complex {
  real: number;
  imaginary: number;
}

const identity = <T>(v: T): T => v;

/** Built-in `long`: a signed 64-bit integer (a BigInt beyond ±(2^53−1)), or an integer numeric string. */
const longType: ValueType<number | bigint> = {
  name: 'long',
  group: 'number',
  storage: 'long',
  struct: LongStruct,
  parse: toLong,
  encode: identity,
  decode: (stored: StoredValue) => stored as number | bigint,
  toJSON: identity,
};

/** Built-in `double`: a finite number, or a numeric string. */
const doubleType: ValueType<number> = {
  name: 'double',
  group: 'number',
  storage: 'double',
  struct: DoubleStruct,
  parse: toFiniteNumber,
  encode: identity,
  decode: (stored: StoredValue) => stored as number,
  toJSON: identity,
};

/** Built-in `string`: any string; numbers and booleans are taken as their string form. */
const stringType: ValueType<string> = {
  name: 'string',
  group: 'text',
  storage: 'string',
  struct: StringStruct,
  parse: (json) =>
    typeof json === 'string'
      ? json.isWellFormed()
        ? json
        : undefined
      : typeof json === 'number' || typeof json === 'boolean' || typeof json === 'bigint'
        ? exactText(json)
        : undefined,
  encode: identity,
  decode: (stored: StoredValue) => stored as string,
  toJSON: identity,
};

/** Built-in `complex-number` (alias `complex`): `{real, imaginary}`, stored as two big-endian doubles. */
export const complexType: ValueType<Complex> = {
  name: 'complex-number',
  group: 'complex',
  storage: 'bytes',
  struct: ComplexStruct,
  parse: (json) => {
    if (typeof json !== 'object' || json === null) return undefined;
    const { real, imaginary } = json as Record<string, unknown>;
    const re = toFiniteNumber(real);
    const im = toFiniteNumber(imaginary);
    return re === undefined || im === undefined ? undefined : { real: re, imaginary: im };
  },
  encode: ({ real, imaginary }) => {
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, real);
    view.setFloat64(8, imaginary);
    return bytes;
  },
  decode: (stored) => {
    const bytes = stored as Uint8Array;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { real: view.getFloat64(0), imaginary: view.getFloat64(8) };
  },
  toJSON: identity,
};

/** The built-in types as the registry holds them. */
export const builtin = {
  long: longType as ValueType,
  double: doubleType as ValueType,
  string: stringType as ValueType,
  complex: complexType as ValueType,
};
