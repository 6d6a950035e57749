import type { Failure } from 'superstruct';
import { MAX_TTL } from '../store-api/contract.js';
import { toMetricName } from './rules.js';

/** What is wrong, as the schema reports it; `render` turns it into KairosDB's wording. */
export type FailureCode =
  | 'start'
  | 'metric-object'
  | 'null'
  | 'empty'
  | 'empty-array'
  | 'cannot-be-empty'
  | 'not-string'
  | 'not-unicode'
  | 'not-array'
  | 'datapoint'
  | 'timestamp'
  | 'ttl'
  | 'tags-count'
  | 'tag-value'
  | 'invalid-type'
  | 'unregistered'
  | 'unsafe-integer'
  | 'long-range'
  | 'not-finite'
  | 'not-type'
  | 'too-many-tags'
  | 'too-long';

const SAFE = Number.MAX_SAFE_INTEGER;

const WHAT: Record<FailureCode, string> = {
  start: 'Invalid start of json.',
  'metric-object': 'must be an object.',
  null: 'may not be null.',
  empty: 'may not be empty.',
  'empty-array': 'may not be an empty array.',
  'cannot-be-empty': 'cannot be null or empty.',
  'not-string': 'must be a string.',
  'not-unicode': 'must be well-formed Unicode (it contains a lone surrogate).',
  'not-array': 'must be an array.',
  datapoint: 'must be an array of [timestamp, value] or [timestamp, value, type].',
  timestamp: `must be an integer number of milliseconds between -${SAFE} and ${SAFE}.`,
  ttl: `must be an integer between 0 and ${MAX_TTL}.`,
  'tags-count': 'count must be greater than or equal to 1.',
  'tag-value': 'must be a string, number or boolean.',
  'invalid-type': 'value is an invalid type',
  unregistered: '',
  'unsafe-integer': `is an integer outside ±${SAFE} and cannot be stored exactly; send it with type "double" to store it rounded.`,
  'long-range': 'is an integer outside the 64-bit range of a long (-9223372036854775808 to 9223372036854775807); send it with type "double" to store it rounded.',
  'not-finite': 'must be a finite number.',
  'not-type': 'is not a valid value of type',
  'too-many-tags': 'has more than',
  'too-long': 'is longer than',
};

/** Renders one schema failure as a KairosDB-style message. */
export function render(failure: Failure): string {
  const code = failure.message as FailureCode;
  if (code === 'start') return WHAT.start;
  if (code === 'unregistered') return `Unregistered data point type '${String(failure.value)}'`;
  const [index, ...rest] = failure.path as (string | number)[];
  const metric = failure.branch[1] as Record<string, unknown> | undefined;
  let subject = `metric[${index}]`;
  const name = metric && typeof metric === 'object' ? toMetricName(metric.name) : undefined;
  if (name !== undefined && rest[0] !== 'name') subject += `(name=${name})`;
  const field = fieldPath(rest, metric);
  if (code === 'invalid-type') return `${subject} ${WHAT[code]}`;
  if (code === 'too-many-tags' || code === 'too-long') {
    const { detail } = failure as Failure & { detail?: string };
    return `${subject}${field} ${WHAT[code]} ${detail} ${code === 'too-long' ? 'characters' : 'tags'} (${failure.refinement}).`;
  }
  if (code === 'not-type') {
    const { detail } = failure as Failure & { detail?: string };
    return `${subject}${field} ${WHAT[code]} '${failure.refinement}'${detail ? ` (${detail})` : ''}.`;
  }
  return field === '' ? `${subject} ${WHAT[code]}` : `${subject}${field} ${WHAT[code]}`;
}

function fieldPath(rest: (string | number)[], metric: Record<string, unknown> | undefined): string {
  const [field, at, part] = rest;
  if (field === undefined) return '';
  if (field === 'datapoints') {
    if (at === undefined) return '.datapoints';
    const what = part === 0 ? '.timestamp' : part === 1 ? '.value' : part === 2 ? '.type' : '';
    return `.datapoints[${at}]${what}`;
  }
  if (field === 'tags') {
    if (at === undefined) return '.tags';
    if (part === 'name') return `.tag[${at}].name`;
    const tagName = Object.keys((metric?.tags ?? {}) as object)[at as number];
    return `.tag[${tagName}].value`;
  }
  return `.${field}`;
}
