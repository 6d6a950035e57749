/** No two quantifiers compete for the same digits, so a failing match costs linear time (issue #12). */
const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Whether a string is a decimal number literal such as `"12"`, `"-5"`, `"+5"`, `"12.5"` or `".5"`. */
export function isNumericString(text: string): boolean {
  return NUMERIC.test(text);
}

/** A JSON number (a BigInt of an exact integer too) or numeric string as a finite number, else `undefined`. */
export function toFiniteNumber(json: unknown): number | undefined {
  if (typeof json === 'number') return Number.isFinite(json) ? json : undefined;
  if (typeof json === 'bigint') return Number(json);
  if (typeof json === 'string' && isNumericString(json)) {
    const n = Number(json);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INTEGER_TEXT = /^[+-]?\d+$/;

/** Whether a BigInt fits a signed 64-bit long (KairosDB's `long`). */
function inLongRange(n: bigint): boolean {
  return n >= INT64_MIN && n <= INT64_MAX;
}

/** A BigInt as a Number when it is a safe integer (the usual case), else itself. */
export function narrowLong(n: bigint): number | bigint {
  return n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n;
}

/**
 * A JSON integer as a long: a Number when safe, else a BigInt within the signed 64-bit range (a BigInt from the
 * exact parse, or an integer numeric string, read exactly); else `undefined`.
 */
export function toLong(json: unknown): number | bigint | undefined {
  if (typeof json === 'number') return Number.isSafeInteger(json) ? json : undefined;
  if (typeof json === 'bigint') return inLongRange(json) ? narrowLong(json) : undefined;
  if (typeof json !== 'string' || !isNumericString(json) || json.includes('.')) return undefined;
  const n = Number(json);
  if (Number.isSafeInteger(n)) return n;
  if (!INTEGER_TEXT.test(json)) return undefined;
  const big = BigInt(json);
  return inLongRange(big) ? big : undefined;
}

/**
 * The type a JSON number infers without an explicit one — the one rule, used by the fast path and the schema:
 * `long` for a safe integer, `double` for a finite fraction; otherwise why it is neither.
 */
export function numberType(value: number): 'long' | 'double' | 'unsafe-integer' | 'not-finite' {
  if (Number.isSafeInteger(value)) return 'long';
  if (!Number.isFinite(value)) return 'not-finite';
  return Number.isInteger(value) ? 'unsafe-integer' : 'double';
}

/** Whether values `from` to `to` hold a BigInt (a long beyond ±(2^53−1)); a Float64Array never does. */
export function hasBigInt(values: ArrayLike<unknown>, from = 0, to = values.length): boolean {
  if (values instanceof Float64Array) return false;
  for (let i = from; i < to; i++) if (typeof values[i] === 'bigint') return true;
  return false;
}
