import { define, Struct, validate } from 'superstruct';
import { builtin } from '../types/builtins.js';
import { isNumericString, numberType, toLong } from '../types/numbers.js';
import type { TypeRegistry } from '../types/registry.js';
import type { ValueType } from '../types/value-type.js';
import { isObject } from '../json.js';
import { DEFAULT_TAG_LIMITS, toMetricName, toTagValue, toTimestamp, toTtl, type TagLimits } from './rules.js';
import type { FailureCode } from './messages.js';

/*
 * The declared schema of an "Add Data Points" body. Every failure's `message` is a FailureCode;
 * `messages.ts` renders them. Entries are yielded in the order the SPEC reports errors.
 */

type Check = (value: unknown) => true | FailureCode;
type Entry = [string | number, unknown, Struct<any, any>];

const rule = (name: string, check: Check) => define<unknown>(name, (value) => check(value));

const Name = rule('name', (v) => {
  if (v == null) return 'null';
  if (v === '') return 'empty';
  if (typeof v !== 'string' && typeof v !== 'number') return 'not-string';
  return toMetricName(v) !== undefined || 'not-unicode';
});

const Timestamp = rule('timestamp', (v) => (v == null ? 'null' : toTimestamp(v) !== undefined || 'timestamp'));
const OptionalTimestamp = rule('timestamp', (v) => v == null || toTimestamp(v) !== undefined || 'timestamp');
const Ttl = rule('ttl', (v) => v == null || toTtl(v) !== undefined || 'ttl');
const TypeName = rule('type', (v) => v == null || typeof v === 'string' || 'not-string');

/** Whether a point's value is there at all: not null, not `[]`, and not `""` unless the type is string. */
function presence(v: unknown, type: ValueType | undefined): true | FailureCode {
  if (v == null || (v === '' && type !== builtin.string)) return 'empty';
  return !Array.isArray(v) || v.length > 0 || 'empty-array';
}

function tagsStruct(limits: TagLimits): Struct<unknown, null> {
  const Tag = define<unknown>('tag', (entry, ctx) => {
    const [name, value] = entry as [string, unknown];
    const failures: { message: FailureCode; path: unknown[]; refinement?: string; detail?: string }[] = [];
    if (name === '') failures.push({ message: 'empty', path: [...ctx.path, 'name'] });
    else if (!name.isWellFormed()) failures.push({ message: 'not-unicode', path: [...ctx.path, 'name'] });
    else if (name.length > limits.maxNameLength) failures.push({ message: 'too-long', path: [...ctx.path, 'name'], refinement: 'maxTagNameLength', detail: String(limits.maxNameLength) });
    const text = toTagValue(value);
    const code: FailureCode | undefined = value === null ? 'null' : value === '' ? 'empty' : text === undefined ? 'tag-value' : undefined;
    if (code) failures.push({ message: code, path: [...ctx.path, 'value'] });
    else if ((text as string).length > limits.maxValueLength) failures.push({ message: 'too-long', path: [...ctx.path, 'value'], refinement: 'maxTagValueLength', detail: String(limits.maxValueLength) });
    return failures;
  });
  return new Struct<unknown, null>({
    type: 'tags',
    schema: null,
    validator: (v) => {
      if (!isObject(v) || Object.keys(v).length === 0) return 'tags-count';
      return Object.keys(v).length <= limits.maxTags || { message: 'too-many-tags', refinement: 'maxTagsPerSeries', detail: String(limits.maxTags) };
    },
    *entries(v) {
      if (!isObject(v)) return;
      const names = Object.keys(v);
      for (let n = 0; n < names.length; n++) yield [n, [names[n], v[names[n] as string]], Tag] as Entry;
    },
  });
}

/** The value of one point: present, not empty, and of its type (explicit, or inferred from the JSON). */
function valueOf(type: ValueType | undefined, unregistered: boolean): Struct<unknown, null> {
  return define<unknown>('value', (v) => {
    if (unregistered) return true;
    const present = presence(v, type);
    if (present !== true) return present;
    if (!type) return inferred(v);
    const [error] = validate(v, type.struct, { coerce: true });
    if (!error) return true;
    return BUILT_IN_NAMES.has(type.name) ? { message: 'not-type', refinement: type.name } : { message: 'not-type', refinement: type.name, detail: whyNot(error.failures()[0]) };
  });
}

/** The built-in types keep KairosDB's message; custom types also say which of their checks failed. */
const BUILT_IN_NAMES = new Set(Object.values(builtin).map((t) => t.name));

/**
 * Where a custom type's struct refused the value and which check: the failing key, the refinement's name or expected
 * type, and the message the check gave (a refiner returning a string), if it gave one of its own.
 */
function whyNot(failure: { path: unknown[]; refinement?: string | undefined; type: string; message: string } | undefined): string {
  if (!failure) return '';
  const at = failure.path.map((key) => String(key).slice(0, 64)).join('.');
  const check = failure.refinement !== undefined ? `the '${failure.refinement}' check` : `the ${failure.type} check`;
  // superstruct's own messages quote the value received (which the client sent): only a check's own message is added.
  const own = failure.message.startsWith('Expected ') ? '' : `: ${failure.message.slice(0, MAX_CHECK_MESSAGE)}`;
  return `${at === '' ? '' : `${at} `}fails ${check}${own}`;
}

/** Characters of a custom check's own message kept in the answer. */
const MAX_CHECK_MESSAGE = 200;

function inferred(v: unknown): true | FailureCode {
  if (typeof v === 'number') {
    const type = numberType(v);
    return type === 'long' || type === 'double' || type;
  }
  if (typeof v === 'bigint') return toLong(v) !== undefined || 'long-range';
  if (typeof v === 'string') {
    if (!isNumericString(v)) return v.isWellFormed() || 'not-unicode';
    const n = Number(v);
    if (!Number.isFinite(n)) return 'not-finite';
    return v.includes('.') || toLong(v) !== undefined || (/^[+-]?\d+$/.test(v) ? 'long-range' : 'unsafe-integer');
  }
  return typeof v === 'boolean' || 'invalid-type';
}

/** Looks a type name up; `undefined` with `unregistered` set when it names no registered type. */
function resolveType(types: TypeRegistry, name: unknown): { type?: ValueType; unregistered: boolean } {
  if (name == null) return { unregistered: false };
  if (typeof name !== 'string') return { unregistered: true };
  const type = types.get(name);
  return type ? { type, unregistered: false } : { unregistered: true };
}

const Unregistered = rule('type', (v) => (typeof v === 'string' ? 'unregistered' : 'not-string'));

function datapointStruct(types: TypeRegistry, metricType: unknown): Struct<unknown, null> {
  return new Struct<unknown, null>({
    type: 'datapoint',
    schema: null,
    validator: (p) => Array.isArray(p) || 'datapoint',
    *entries(p) {
      if (!Array.isArray(p)) return;
      if (p.length === 0) {
        yield [0, undefined, rule('timestamp', () => 'cannot-be-empty')] as Entry;
        return;
      }
      yield [0, p[0], Timestamp] as Entry;
      if (p.length === 1) {
        yield [1, undefined, rule('value', () => 'cannot-be-empty')] as Entry;
        return;
      }
      const own = p.length > 2 && p[2] != null;
      const { type, unregistered } = resolveType(types, own ? p[2] : metricType);
      yield [1, p[1], valueOf(type, unregistered)] as Entry;
      if (own && unregistered) yield [2, p[2], Unregistered] as Entry;
    },
  });
}

function datapointsStruct(types: TypeRegistry, metricType: unknown): Struct<unknown, null> {
  const Datapoint = datapointStruct(types, metricType);
  return new Struct<unknown, null>({
    type: 'datapoints',
    schema: null,
    validator: (v) => v == null || Array.isArray(v) || 'not-array',
    *entries(v) {
      if (!Array.isArray(v)) return;
      for (let k = 0; k < v.length; k++) yield [k, v[k], Datapoint] as Entry;
    },
  });
}

function metricStruct(types: TypeRegistry, limits: TagLimits): Struct<unknown, null> {
  const Tags = tagsStruct(limits);
  return new Struct<unknown, null>({
    type: 'metric',
    schema: null,
    validator: (m) => isObject(m) || 'metric-object',
    *entries(m) {
      if (!isObject(m)) return;
      const timestamp = m.time ?? m.timestamp;
      const { type, unregistered } = resolveType(types, m.type);
      yield ['name', m.name, Name] as Entry;
      const valuePresent = m.value === undefined ? 'null' : presence(m.value, type);
      if (timestamp != null) yield ['value', m.value, rule('value', () => valuePresent)] as Entry;
      yield ['timestamp', timestamp, m.value != null ? Timestamp : OptionalTimestamp] as Entry;
      yield ['tags', m.tags, Tags] as Entry;
      yield ['ttl', m.ttl, Ttl] as Entry;
      yield ['type', m.type, unregistered ? Unregistered : TypeName] as Entry;
      if (timestamp != null && valuePresent === true) yield ['value', m.value, valueOf(type, unregistered)] as Entry;
      yield ['datapoints', m.datapoints, datapointsStruct(types, m.type)] as Entry;
    },
  });
}

/** The structs of a body and of one metric, for a type registry and the tag limits. */
export function bodySchema(types: TypeRegistry, limits: TagLimits = DEFAULT_TAG_LIMITS): { Body: Struct<unknown, null>; Metric: Struct<unknown, null> } {
  const Metric = metricStruct(types, limits);
  const Body = new Struct<unknown, null>({
    type: 'body',
    schema: null,
    validator: (v) => (typeof v === 'object' && v !== null) || 'start',
    *entries(v) {
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield [i, v[i], Metric] as Entry;
      else if (isObject(v)) yield [0, v, Metric] as Entry;
    },
  });
  return { Body, Metric };
}
