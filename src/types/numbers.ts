/** No two quantifiers compete for the same digits, so a failing match costs linear time (issue #12). */
const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Whether a string is a decimal number literal such as `"12"`, `"-5"`, `"+5"`, `"12.5"` or `".5"`. */
export function isNumericString(text: string): boolean {
  return NUMERIC.test(text);
}

/** A JSON number or numeric string as a finite number, else `undefined`. */
export function toFiniteNumber(json: unknown): number | undefined {
  if (typeof json === 'number') return Number.isFinite(json) ? json : undefined;
  if (typeof json === 'string' && isNumericString(json)) {
    const n = Number(json);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A JSON number or integer numeric string as a safe integer, else `undefined`. */
export function toSafeInteger(json: unknown): number | undefined {
  if (typeof json === 'number') return Number.isSafeInteger(json) ? json : undefined;
  if (typeof json === 'string' && isNumericString(json) && !json.includes('.')) {
    const n = Number(json);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
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
