import { isObject } from '../json.js';
import { toFiniteNumber } from '../types/numbers.js';
import { AGGREGATOR_NAMES, GROUPER_NAMES, OPTIONS, RANGE_DEFAULTS } from './features.js';
import type { QueryFailure } from './messages.js';
import type { AggregatorSpec, GrouperSpec, MetricQuery, QuerySpec, SaveAs, Threshold } from './spec.js';
import { addUnits, alignStart, fitsTimeRange, isTimeZone, MAX_TIME, rangesBetween, toUnit, type Duration, type Unit } from './time.js';

/** A query, or the messages that say why it is not one. */
export type ParsedQuery = { ok: true; spec: QuerySpec } | { ok: false; errors: QueryFailure[] };

/** The limits a query must keep to be run at all (each named after its option in the messages). */
export interface QueryLimits {
  readonly maxQueryMetrics: number;
  readonly maxQueryTags: number;
  readonly maxQueryOutputPoints: number;
}

const UNLIMITED: QueryLimits = { maxQueryMetrics: Infinity, maxQueryTags: Infinity, maxQueryOutputPoints: Infinity };


/** Parses a query body (KairosDB's Query Metrics format); `now` resolves relative times. */
export function parseQuery(body: unknown, now: number, limits: QueryLimits = UNLIMITED): ParsedQuery {
  const errors: QueryFailure[] = [];
  if (!isObject(body)) return { ok: false, errors: [{ at: '', code: 'not-json-object' }] };
  const timeZone = typeof body.time_zone === 'string' && body.time_zone !== '' ? body.time_zone : 'UTC';
  if (!isTimeZone(timeZone)) errors.push({ at: 'query.time_zone', code: 'time-zone', zone: timeZone });
  const zone = errors.length > 0 ? 'UTC' : timeZone;
  const cacheTime = body.cache_time == null ? 0 : toFiniteNumber(body.cache_time);
  if (cacheTime === undefined || cacheTime < 0) errors.push({ at: 'cache_time', code: 'min-0' });

  const metrics = Array.isArray(body.metrics) ? body.metrics : [];
  if (metrics.length === 0) return { ok: false, errors: [{ at: 'query.metric[]', code: 'size-min-1' }] };
  if (metrics.length > limits.maxQueryMetrics) {
    return { ok: false, errors: [{ at: 'query.metric[]', code: 'too-many', count: metrics.length, max: limits.maxQueryMetrics, what: 'metrics', option: 'maxQueryMetrics' }] };
  }

  const start = instant(body.start_absolute, body.start_relative, 'start_relative', now, zone, errors);
  // Without an end there is no upper bound (KairosDB's QueryMetric.getEndTime: Long.MAX_VALUE), future points included.
  const end = instant(body.end_absolute, body.end_relative, 'end_relative', now, zone, errors) ?? NO_END;
  if (start === undefined && body.start_absolute == null && body.start_relative == null) {
    errors.push({ at: 'query.metric[0].start_time', code: 'start-missing' });
  } else if (start !== undefined && end < start) {
    errors.push({ at: 'query.metric[0].end_time', code: 'end-before-start' });
  }

  const parsed = metrics.map((m, i) => metric(m, `query.metric[${i}]`, limits, errors));
  if (errors.length > 0 || start === undefined) return { ok: false, errors };
  const spec = { start, end, timeZone: zone, metrics: parsed as MetricQuery[] };
  checkGaps(spec, limits, errors, now);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, spec };
}

/** The end of a query that gives none: every point after its start. */
export const NO_END = Number.MAX_SAFE_INTEGER;

/** `gaps` answers a value for every sampling range of the window, data or not: refuse a window with too many. */
function checkGaps(spec: QuerySpec, limits: QueryLimits, errors: QueryFailure[], now: number): void {
  spec.metrics.forEach((m, i) =>
    m.aggregators.forEach((a, j) => {
      if (a.name !== 'gaps') return;
      const anchor = a.alignSampling ? alignStart(spec.start, a.sampling.unit, spec.timeZone) : spec.start;
      // (gaps marks empty ranges up to the end clamped to now: see its stage)
      const ranges = rangesBetween(anchor, Math.min(spec.end, now), a.sampling);
      if (ranges > limits.maxQueryOutputPoints) {
        errors.push({ at: `query.metric[${i}].aggregators[${j}]`, code: 'gaps-too-many', ranges, max: limits.maxQueryOutputPoints });
      }
    }),
  );
}

function instant(absolute: unknown, relative: unknown, name: string, now: number, zone: string, errors: QueryFailure[]): number | undefined {
  if (absolute != null) {
    const ms = toFiniteNumber(absolute);
    const field = `query.${name.replace('relative', 'absolute')}`;
    if (ms === undefined) errors.push({ at: field, code: 'ms-number' });
    else if (Math.abs(ms) > MAX_TIME) errors.push({ at: field, code: 'ms-range' });
    return ms === undefined || Math.abs(ms) > MAX_TIME ? undefined : Math.trunc(ms);
  }
  if (relative == null) return undefined;
  const duration = durationOf(relative, `${name}.value`, 'query.', errors);
  if (!duration) return undefined;
  const ts = fitsTimeRange(duration) ? addUnits(now, -duration.value, duration.unit, zone) : NaN;
  if (Number.isFinite(ts) && Math.abs(ts) <= MAX_TIME) return ts;
  errors.push({ at: `query.${name}`, code: 'outside-range' });
  return undefined;
}

/** A `{value, unit}` object; pushes a message naming `valueField` when the value is negative or too large, or the unit unknown. */
function durationOf(json: unknown, valueField: string, unitPrefix: string, errors: QueryFailure[]): Duration | undefined {
  const { value, unit } = (isObject(json) ? json : {}) as { value?: unknown; unit?: unknown };
  const n = toFiniteNumber(value);
  const u = toUnit(unit);
  if (n === undefined || n < 0) errors.push({ at: valueField, code: 'min-0' });
  if (!u) errors.push({ at: `${unitPrefix}${String(unit)}`, code: 'bad-unit' });
  if (n === undefined || n < 0 || !u) return undefined;
  const duration = { value: Math.trunc(n), unit: u };
  if (fitsTimeRange(duration)) return duration;
  errors.push({ at: valueField, code: 'max-time-range' });
  return undefined;
}

function metric(json: unknown, at: string, limits: QueryLimits, errors: QueryFailure[]): MetricQuery | undefined {
  const m = isObject(json) ? json : {};
  const name = typeof m.name === 'string' ? m.name : '';
  if (name === '') errors.push({ at: `${at}.name`, code: 'empty' });
  const tags = tagFilter(m.tags, at, limits, errors);
  const limit = m.limit == null ? 0 : toFiniteNumber(m.limit);
  if (limit === undefined || limit < 0) errors.push({ at: `${at}.limit`, code: 'min-0' });
  const order = typeof m.order === 'string' ? m.order.toLowerCase() : 'asc';
  if (order !== 'asc' && order !== 'desc') errors.push({ at: `${at}.order`, code: 'order' });
  const groupBy = (Array.isArray(m.group_by) ? m.group_by : []).map((g, j) => grouper(g, `${at}.group_by[${j}]`, limits, errors));
  const aggregators = (Array.isArray(m.aggregators) ? m.aggregators : []).map((a, j) => aggregator(a, `${at}.aggregators[${j}]`, errors));
  return {
    name,
    tags,
    excludeTags: m.exclude_tags === true,
    limit: Math.trunc(limit ?? 0),
    order: order === 'desc' ? 'desc' : 'asc',
    groupBy: groupBy as GrouperSpec[],
    aggregators: aggregators as AggregatorSpec[],
  };
}

function tagFilter(json: unknown, at: string, limits: QueryLimits, errors: QueryFailure[]): Record<string, string[]> {
  const filter: Record<string, string[]> = Object.create(null);
  if (!isObject(json)) return filter;
  let count = 0;
  for (const name of Object.keys(json)) {
    const raw = json[name];
    count += Array.isArray(raw) ? Math.max(1, raw.length) : 1;
  }
  if (count > limits.maxQueryTags) {
    errors.push({ at: `${at}.tags`, code: 'too-many', count, max: limits.maxQueryTags, what: 'tag values', option: 'maxQueryTags' });
    return filter;
  }
  for (const name of Object.keys(json)) {
    if (name === '') {
      errors.push({ at: `${at}.tags[0]`, code: 'tag-name-empty' });
      continue;
    }
    const raw = json[name];
    const values = Array.isArray(raw) ? raw : [raw];
    if (values.some((v) => v == null || v === '')) {
      errors.push({ at: `${at}.tags[0].${name}`, code: 'tag-value-empty' });
      continue;
    }
    filter[name] = values.map(String);
  }
  return filter;
}

function grouper(json: unknown, at: string, limits: QueryLimits, errors: QueryFailure[]): GrouperSpec | undefined {
  const g = isObject(json) ? json : {};
  const name = typeof g.name === 'string' ? g.name.toLowerCase() : '';
  if (name === '') return void errors.push({ at, code: 'no-name' });
  if (!GROUPER_NAMES.has(name)) return void errors.push({ at: `${at}.${String(g.name)}`, code: 'unknown-grouper' });
  if (name === 'tag') {
    if (g.tags == null) return void errors.push({ at: `${at}.tags`, code: 'null' });
    const names = Array.isArray(g.tags) ? g.tags : [];
    if (names.length > limits.maxQueryTags) return void errors.push({ at: `${at}.tags`, code: 'too-many', count: names.length, max: limits.maxQueryTags, what: 'tag names', option: 'maxQueryTags' });
    const tags = names.map(String);
    if (tags.length === 0) return void errors.push({ at: `${at}.tags`, code: 'empty' });
    return { name, tags };
  }
  if (name === 'time') {
    if (g.range_size == null) return void errors.push({ at: `${at}.range_size`, code: 'null' });
    const rangeSize = durationOf(g.range_size, `${at}.range_size.value`, `${at}.`, errors);
    const groupCount = toFiniteNumber(g.group_count);
    if (groupCount === undefined || groupCount < 1) errors.push({ at: `${at}.group_count`, code: 'min-1' });
    if (rangeSize?.value === 0) errors.push({ at: `${at}.range_size.value`, code: 'positive' });
    return rangeSize && groupCount !== undefined ? { name, rangeSize, groupCount: Math.trunc(groupCount) } : undefined;
  }
  if (name === 'value') {
    if (g.range_size == null) return void errors.push({ at: `${at}.range_size`, code: 'null' });
    const rangeSize = toFiniteNumber(g.range_size);
    if (rangeSize === undefined || rangeSize <= 0) return void errors.push({ at: `${at}.range_size`, code: 'positive' });
    return { name, rangeSize };
  }
  if (name === 'bin') {
    if (g.bins == null) return void errors.push({ at: `${at}.bins`, code: 'null' });
    const bins = Array.isArray(g.bins) ? g.bins.map((b) => toFiniteNumber(b)) : [];
    if (bins.length === 0) return void errors.push({ at: `${at}.bins`, code: 'empty' });
    if (bins.length > limits.maxQueryTags) return void errors.push({ at: `${at}.bins`, code: 'too-many', count: bins.length, max: limits.maxQueryTags, what: 'bins', option: 'maxQueryTags' });
    if (bins.some((b) => b === undefined)) return void errors.push({ at: `${at}.bins`, code: 'numbers' });
    if (bins.some((b, i) => i > 0 && (b as number) < (bins[i - 1] as number))) return void errors.push({ at: `${at}.bins`, code: 'ascending' });
    return { name, bins: bins as number[] };
  }
  throw new Error(`grouper ${name} is declared in features.ts but not parsed`);
}

const { filterOp: FILTER_OPS, trim: TRIMS, scoreOrder: SCORE_ORDERS, boundary: BOUNDARIES } = OPTIONS;
/** Most thresholds of one `score` aggregator. */
const MAX_THRESHOLDS = 1000;

/** The thresholds of `score`, sorted as KairosDB sorts them: by value, `inferior` first at equal values. */
function thresholdsOf(json: unknown, at: string, errors: QueryFailure[]): Threshold[] | undefined {
  if (json == null) return void errors.push({ at, code: 'null' });
  if (!Array.isArray(json)) return void errors.push({ at, code: 'array' });
  if (json.length > MAX_THRESHOLDS) return void errors.push({ at, code: 'too-many', count: json.length, max: MAX_THRESHOLDS, what: 'thresholds', option: '' });
  const thresholds: Threshold[] = [];
  json.forEach((t, i) => {
    const item = isObject(t) ? t : {};
    const value = toFiniteNumber(item.value);
    const boundary = item.boundary == null ? 'superior' : typeof item.boundary === 'string' ? item.boundary.toLowerCase() : '';
    if (value === undefined) errors.push({ at: `${at}[${i}].value`, code: 'number' });
    if (boundary !== 'superior' && boundary !== 'inferior') errors.push({ at: `${at}[${i}].boundary`, code: 'one-of', options: BOUNDARIES });
    else if (value !== undefined) thresholds.push({ value, boundary });
  });
  return thresholds.sort((x, y) => x.value - y.value || (x.boundary === y.boundary ? 0 : x.boundary === 'inferior' ? -1 : 1));
}

function aggregator(json: unknown, at: string, errors: QueryFailure[]): AggregatorSpec | undefined {
  const a = isObject(json) ? json : {};
  const name = typeof a.name === 'string' ? a.name.toLowerCase() : '';
  if (name === '') return void errors.push({ at, code: 'no-name' });
  if (!AGGREGATOR_NAMES.has(name)) return void errors.push({ at: `${at}.${String(a.name)}`, code: 'unknown-aggregator' });
  const before = errors.length;
  const sampling = a.sampling == null ? { value: 1, unit: 'MILLISECONDS' as Unit } : durationOf(a.sampling, `${at}.sampling.value`, `${at}.`, errors);
  if (sampling?.value === 0) errors.push({ at: `${at}.sampling.value`, code: 'positive' });
  let unit: Duration = sampling ?? { value: 1, unit: 'MILLISECONDS' };
  if (a.unit != null) {
    const u = toUnit(a.unit);
    if (!u) errors.push({ at: `${at}.${String(a.unit)}`, code: 'bad-unit' });
    else unit = { value: 1, unit: u };
  }
  const spec: AggregatorSpec = {
    name,
    sampling: sampling ?? { value: 1, unit: 'MILLISECONDS' },
    alignSampling: flag(a.align_sampling, RANGE_DEFAULTS.alignSampling),
    alignStartTime: flag(a.align_start_time, RANGE_DEFAULTS.alignStartTime),
    alignEndTime: flag(a.align_end_time, RANGE_DEFAULTS.alignEndTime),
    unit,
    percentile: 0,
    divisor: 1,
    factor: 1,
    filterOp: 'equal',
    threshold: 0,
    trim: 'both',
    size: 1,
    thresholds: [],
    scoreOrder: 'ascending',
  };
  if (name === 'div') {
    const divisor = toFiniteNumber(a.divisor);
    if (!divisor) errors.push({ at: `${at}.divisor`, code: 'not-zero' });
    else spec.divisor = divisor;
  } else if (name === 'percentile') {
    const p = a.percentile == null ? 0 : toFiniteNumber(a.percentile);
    if (p === undefined) errors.push({ at: `${at}.percentile`, code: 'number' });
    else if (p === 0) errors.push({ at: `${at}.percentile`, code: 'not-zero' });
    else if (p < 0 || p > 1) errors.push({ at: `${at}.percentile`, code: 'percentile-range' });
    else spec.percentile = p;
  } else if (name === 'scale') {
    const factor = toFiniteNumber(a.factor);
    if (factor === undefined) errors.push({ at: `${at}.factor`, code: 'number' });
    else spec.factor = factor;
  } else if (name === 'filter') {
    const op = typeof a.filter_op === 'string' ? a.filter_op.toLowerCase() : '';
    const threshold = toFiniteNumber(a.threshold);
    if (!(FILTER_OPS as readonly string[]).includes(op)) errors.push({ at: `${at}.filter_op`, code: 'one-of', options: FILTER_OPS });
    else spec.filterOp = op as AggregatorSpec['filterOp'];
    if (threshold === undefined) errors.push({ at: `${at}.threshold`, code: 'number' });
    else spec.threshold = threshold;
  } else if (name === 'trim') {
    const trim = typeof a.trim === 'string' ? a.trim.toLowerCase() : '';
    if (!(TRIMS as readonly string[]).includes(trim)) errors.push({ at: `${at}.trim`, code: 'one-of', options: TRIMS });
    else spec.trim = trim as AggregatorSpec['trim'];
  } else if (name === 'score') {
    const thresholds = thresholdsOf(a.thresholds, `${at}.thresholds`, errors);
    if (thresholds) spec.thresholds = thresholds;
    const order = a.order == null ? 'ascending' : typeof a.order === 'string' ? a.order.toLowerCase() : '';
    if (order !== 'ascending' && order !== 'descending') errors.push({ at: `${at}.order`, code: 'one-of', options: SCORE_ORDERS });
    else spec.scoreOrder = order;
  } else if (name === 'save_as') {
    const saveAs = saveAsOf(a, at, errors);
    if (saveAs) spec.saveAs = saveAs;
  } else if (name === 'sma') {
    const size = toFiniteNumber(a.size);
    if (size === undefined || size < 1 || !Number.isInteger(size)) errors.push({ at: `${at}.size`, code: 'integer-min-1' });
    else spec.size = size;
  }
  return errors.length === before ? spec : undefined;
}

/** save_as's parameters: `metric_name` is required (KairosDB fails with a 500 without it); tags are non-empty strings. */
function saveAsOf(a: Record<string, unknown>, at: string, errors: QueryFailure[]): SaveAs | undefined {
  const before = errors.length;
  const metric = a.metric_name;
  if (typeof metric !== 'string' || metric.trim() === '') errors.push({ at: `${at}.metric_name`, code: 'empty' });
  const tags: Record<string, string> = {};
  if (a.tags != null && !isObject(a.tags)) errors.push({ at: `${at}.tags`, code: 'not-object' });
  for (const [name, value] of Object.entries(isObject(a.tags) ? a.tags : {})) {
    if (name === '') errors.push({ at: `${at}.tags`, code: 'tag-name-empty' });
    else if (typeof value !== 'string' || value === '') errors.push({ at: `${at}.tags.${name}`, code: 'tag-value-empty' });
    else Object.defineProperty(tags, name, { value, enumerable: true });
  }
  const ttl = a.ttl == null ? 0 : toFiniteNumber(a.ttl);
  if (ttl === undefined || ttl < 0 || !Number.isInteger(ttl)) errors.push({ at: `${at}.ttl`, code: 'min-0' });
  if (errors.length > before) return undefined;
  return { metric: metric as string, tags, ttl: ttl as number, addSavedFrom: flag(a.add_saved_from, true) };
}

/** A boolean parameter (KairosDB also takes the strings "true" and "false"), else its declared default. */
function flag(json: unknown, fallback: boolean): boolean {
  return json == null ? fallback : json === true || json === 'true';
}
