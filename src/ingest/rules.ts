import { toFiniteNumber } from '../types/numbers.js';

import { MAX_TTL } from '../store-api/contract.js';

const INTEGER_TEXT = /^[+-]?[0-9]+$/;

/** How large one series' tags may be (each a mount option: `maxTagsPerSeries`, `maxTagNameLength`, `maxTagValueLength`). */
export interface TagLimits {
  readonly maxTags: number;
  readonly maxNameLength: number;
  readonly maxValueLength: number;
}

/** The defaults of the tag limits: far above what KairosDB clients and collectors send, far below what stalls a store. */
export const DEFAULT_TAG_LIMITS: TagLimits = { maxTags: 50, maxNameLength: 256, maxValueLength: 4096 };

/**
 * A JSON timestamp as safe-integer ms, else `undefined`: a number (fraction truncated) or, as KairosDB's
 * `Long.parseLong` reads it, a string holding an integer literal (`"1234"`, `"-5"`; not `"1e3"` or `"12.5"`).
 */
export function toTimestamp(json: unknown): number | undefined {
  if (typeof json === 'string') return INTEGER_TEXT.test(json) && Number.isSafeInteger(Number(json)) ? Number(json) : undefined;
  if (typeof json !== 'number') return undefined;
  if (Number.isSafeInteger(json)) return json;
  const truncated = Math.trunc(json) + 0;
  return Number.isSafeInteger(truncated) ? truncated : undefined;
}

/** A request `ttl` as whole seconds in [0, MAX_TTL], else `undefined`. */
export function toTtl(json: unknown): number | undefined {
  const n = toFiniteNumber(json);
  return n !== undefined && Number.isInteger(n) && n >= 0 && n <= MAX_TTL ? n : undefined;
}

/** A metric name (a non-empty well-formed string, or a number taken as its string form), else `undefined`. */
export function toMetricName(json: unknown): string | undefined {
  if (typeof json === 'string') return json !== '' && json.isWellFormed() ? json : undefined;
  return typeof json === 'number' && Number.isFinite(json) ? String(json) : undefined;
}

/** A tag value (non-empty well-formed string, number or boolean as its string form), else `undefined`. */
export function toTagValue(json: unknown): string | undefined {
  if (typeof json === 'string') return json !== '' && json.isWellFormed() ? json : undefined;
  if (typeof json === 'number') return Number.isFinite(json) ? String(json) : undefined;
  return typeof json === 'boolean' ? String(json) : undefined;
}
