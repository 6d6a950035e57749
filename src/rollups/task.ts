/**
 * A roll-up task as KairosDB's Roll-ups API takes it: a name, an `execution_interval` and roll-ups, each a query whose
 * result is saved as the metric `save_as`. Checked as KairosDB's QueryParser checks it (every query metric needs a
 * range aggregator), and refused where KairosDB accepts what then breaks (an interval of 0 or less, a bad unit).
 */
import { isObject } from '../json.js';
import { RANGE_AGGREGATOR_NAMES } from '../query/features.js';
import { renderQueryFailure } from '../query/messages.js';
import { parseQuery, type QueryLimits } from '../query/parse.js';
import type { QuerySpec } from '../query/spec.js';
import { fitsTimeRange, toUnit, UNITS, type Duration } from '../query/time.js';

/** One roll-up of a task: the query (as given) and where its result goes. */
export interface Rollup {
  readonly saveAs: string;
  /** The query as given; each run parses it again for its period. */
  readonly query: Record<string, unknown>;
  /** The sampling of the last range aggregator of each query metric (KairosDB's sampling size), in metric order. */
  readonly samplings: readonly Duration[];
  readonly timeZone: string;
}

/** A checked task: what the runner executes. */
export interface RollupTask {
  readonly id: string;
  readonly name: string;
  readonly interval: Duration;
  readonly rollups: readonly Rollup[];
  /** The task as given with its id first: what GET /rollups answers. */
  readonly json: Record<string, unknown>;
}

export type ParsedTask = { ok: true; task: RollupTask } | { ok: false; errors: string[] };

/** Checks a task body; `id` is the task's (a new one's, or the one an update keeps). */
export function parseTask(body: unknown, id: string, limits: QueryLimits, now: number): ParsedTask {
  if (!isObject(body)) return { ok: false, errors: ['Invalid json. A roll-up task must be a JSON object.'] };
  const errors: string[] = [];
  const name = body.name;
  if (typeof name !== 'string' || name === '') errors.push(name == null ? 'name may not be null' : 'name must be a non-empty string');
  const interval = durationOf(body.execution_interval, 'execution_interval', errors);
  const rollups: Rollup[] = [];
  if (!Array.isArray(body.rollups) || body.rollups.length === 0) errors.push('rollups must be an array with at least 1 roll-up');
  else body.rollups.forEach((r, i) => {
    const rollup = rollupOf(r, `rollups[${i}]`, limits, now, errors);
    if (rollup) rollups.push(rollup);
  });
  if (interval !== undefined) checkPeriods(interval, rollups, errors);
  if (errors.length > 0 || interval === undefined) return { ok: false, errors };
  const { id: _given, ...rest } = body;
  return { ok: true, task: { id, name: name as string, interval, rollups, json: { id, ...rest } } };
}

/** Most sampling periods one execution_interval may hold: more would keep the runner querying without end. */
const MAX_PERIODS_PER_INTERVAL = 100_000;

function checkPeriods(interval: Duration, rollups: readonly Rollup[], errors: string[]): void {
  rollups.forEach((rollup, r) =>
    rollup.samplings.forEach((sampling, m) => {
      if (shortestMs(interval) / shortestMs(sampling) <= MAX_PERIODS_PER_INTERVAL) return;
      errors.push(`rollups[${r}].query.metric[${m}]: a sampling of ${sampling.value} ${sampling.unit} makes more than ${MAX_PERIODS_PER_INTERVAL} periods per execution_interval; use a larger sampling or a shorter interval`);
    }),
  );
}

/** The length in ms of a duration; calendar units at their shortest (a month: 28 days, a year: 365). */
function shortestMs(duration: Duration): number {
  const ms = { MILLISECONDS: 1, SECONDS: 1000, MINUTES: 60_000, HOURS: 3_600_000, DAYS: 86_400_000, WEEKS: 604_800_000, MONTHS: 28 * 86_400_000, YEARS: 365 * 86_400_000 };
  return ms[duration.unit] * duration.value;
}

function durationOf(json: unknown, at: string, errors: string[]): Duration | undefined {
  if (json == null) return void errors.push(`${at} may not be null`);
  if (!isObject(json)) return void errors.push(`${at} must be an object with a value and a unit`);
  const value = typeof json.value === 'string' && /^\d+$/.test(json.value) ? Number(json.value) : json.value;
  const unit = toUnit(json.unit);
  // KairosDB takes 0 and less, and its scheduler then stops scheduling every task.
  const bad = !Number.isSafeInteger(value) || (value as number) < 1;
  if (bad) errors.push(`${at}.value must be an integer greater than or equal to 1`);
  if (unit === undefined) errors.push(`${at}.unit is not a valid time unit, must be one of ${UNITS.join(',')}`);
  if (bad || unit === undefined) return undefined;
  const duration = { value: value as number, unit };
  return fitsTimeRange(duration) ? duration : void errors.push(`${at} is longer than the supported time range`);
}

function rollupOf(json: unknown, at: string, limits: QueryLimits, now: number, errors: string[]): Rollup | undefined {
  if (!isObject(json)) return void errors.push(`${at} must be an object with save_as and query`);
  const saveAs = json.save_as;
  if (typeof saveAs !== 'string' || saveAs === '') errors.push(`${at}.save_as ${saveAs == null ? 'may not be null' : 'must be a non-empty string'}`);
  if (!isObject(json.query)) return void errors.push(`${at}.query ${json.query == null ? 'may not be null' : 'must be a query object'}`);
  const parsed = parseQuery(json.query, now, limits);
  if (!parsed.ok) return void errors.push(...parsed.errors.map((f) => `${at}.${renderQueryFailure(f)}`));
  const samplings = lastSamplings(parsed.spec, at, errors);
  if (samplings === undefined || typeof saveAs !== 'string' || saveAs === '') return undefined;
  return { saveAs, query: json.query, samplings, timeZone: parsed.spec.timeZone };
}

function lastSamplings(spec: QuerySpec, at: string, errors: string[]): Duration[] | undefined {
  const samplings: Duration[] = [];
  spec.metrics.forEach((metric, i) => {
    const last = metric.aggregators.findLast((a) => RANGE_AGGREGATOR_NAMES.has(a.name));
    if (last) samplings.push(last.sampling);
    else errors.push(`${at}.query.metric[${i}].aggregators must include a range aggregator (one with a sampling, e.g. sum): its sampling is the roll-up's period`);
  });
  return samplings.length === spec.metrics.length ? samplings : undefined;
}
