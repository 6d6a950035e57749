import { MAX_TIME, UNITS } from './time.js';

/**
 * What is wrong with a query, as data: where (`at`, a path such as `query.metric[0].aggregators[1]`), which rule
 * (`code`) and its numbers. `renderQueryFailure` words it as KairosDB does, in one place (as ingest's messages.ts).
 */
export type QueryFailure =
  | { at: string; code: Exclude<QueryCode, 'time-zone' | 'too-many' | 'gaps-too-many' | 'one-of'> }
  | { at: string; code: 'time-zone'; zone: string }
  | { at: string; code: 'too-many'; count: number; max: number; what: 'metrics' | 'tag values' | 'tag names' | 'bins' | 'thresholds'; option: string }
  | { at: string; code: 'gaps-too-many'; ranges: number; max: number }
  | { at: string; code: 'one-of'; options: readonly string[] };

type QueryCode = keyof typeof TEXT;

const TEXT = {
  'not-json-object': () => 'Invalid json. A query must be a JSON object.',
  'time-zone': (f: { zone: string }) => `'${f.zone}' is not a valid time zone`,
  'min-0': () => 'must be greater than or equal to 0',
  'min-1': () => 'must be greater than or equal to 1',
  positive: () => 'must be greater than 0',
  'size-min-1': () => 'must have a size of at least 1',
  'too-many': (f: { count: number; max: number; what: string; option: string }) => `has ${f.count} ${f.what}; at most ${f.max} are allowed${f.option ? ` (${f.option})` : ''}`,
  'start-missing': () => 'relative or absolute time must be set',
  'end-before-start': () => 'must be greater than the start time',
  'gaps-too-many': (f: { ranges: number; max: number }) =>
    `gaps would answer about ${f.ranges} values; at most ${f.max} are allowed (maxQueryOutputPoints): use a larger sampling or a shorter time range`,
  'ms-number': () => 'must be a number of milliseconds',
  'ms-range': () => `must be between -${MAX_TIME} and ${MAX_TIME} ms`,
  'outside-range': () => `reaches outside the supported time range (±${MAX_TIME} ms from 1970)`,
  'bad-unit': () => `is not a valid time unit, must be one of ${UNITS.join(',')}`,
  'max-time-range': () => `must be at most the supported time range (${MAX_TIME} ms)`,
  empty: () => 'may not be empty',
  null: () => 'may not be null',
  'tag-name-empty': () => 'name must not be empty',
  'tag-value-empty': () => 'value must not be null or empty',
  'no-name': () => 'must have a name',
  'unknown-grouper': () => 'invalid group_by name',
  'unknown-aggregator': () => 'invalid aggregators name',
  'not-zero': () => 'may not be zero',
  number: () => 'must be a number',
  'percentile-range': () => 'must be greater than 0 and at most 1',
  'one-of': (f: { options: readonly string[] }) => `must be one of ${f.options.join(', ')}`,
  'order': () => 'must be asc or desc',
  'integer-min-1': () => 'must be an integer greater than or equal to 1',
  numbers: () => 'must be an array of numbers',
  ascending: () => 'must be in ascending order',
  array: () => 'must be an array',
  'not-object': () => 'must be an object',
} as const;

/** KairosDB's wording of a query failure: the path, then the rule. */
export function renderQueryFailure(failure: QueryFailure): string {
  const text = (TEXT[failure.code] as (f: QueryFailure) => string)(failure);
  return failure.at === '' ? text : `${failure.at} ${text}`;
}
