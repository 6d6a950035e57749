/** Time units of queries, as KairosDB names them. */
export const UNITS = ['MILLISECONDS', 'SECONDS', 'MINUTES', 'HOURS', 'DAYS', 'WEEKS', 'MONTHS', 'YEARS'] as const;

/** A time unit. */
export type Unit = (typeof UNITS)[number];

/** A duration such as `{value: 5, unit: 'MINUTES'}`. */
export interface Duration {
  value: number;
  unit: Unit;
}

const FIXED_MS: Partial<Record<Unit, number>> = {
  MILLISECONDS: 1,
  SECONDS: 1000,
  MINUTES: 60_000,
  HOURS: 3_600_000,
};

/** The length in ms of a unit of fixed length (milliseconds to hours), else undefined (days and longer follow the calendar). */
export function unitMs(unit: Unit): number | undefined {
  return FIXED_MS[unit];
}

/** The largest distance from 1970 a time may have, in ms: JavaScript's date range (±100,000,000 days). */
export const MAX_TIME = 8_640_000_000_000_000;

/** Whether a duration is no longer than the whole date range, so adding it to a time can be computed. */
export function fitsTimeRange(duration: Duration): boolean {
  return averageLength(duration) <= 2 * MAX_TIME;
}

/** About how many sampling ranges start between `anchor` and `end` (both inclusive); calendar units at their average length. */
export function rangesBetween(anchor: number, end: number, sampling: Duration): number {
  return Math.floor((end - anchor) / averageLength(sampling)) + 1;
}

/** A unit name in any case as a Unit, else `undefined`. */
export function toUnit(json: unknown): Unit | undefined {
  if (typeof json !== 'string') return undefined;
  const upper = json.toUpperCase();
  return (UNITS as readonly string[]).includes(upper) ? (upper as Unit) : undefined;
}

/** Time zones found known: unknown ones are not kept, nor more than 1,000 (names are case-insensitive: many spellings). */
const knownZones = new Set(['UTC']);

/**
 * Whether a time zone name is known to this runtime. UTC, every query's default, is known without asking `Intl`: a
 * process's first `Intl.DateTimeFormat` loads the zone data, ~13 ms of a first query.
 */
export function isTimeZone(name: string): boolean {
  if (knownZones.has(name)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
  } catch {
    return false;
  }
  if (knownZones.size < 1000) knownZones.add(name);
  return true;
}

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsOf(ts: number, zone: string): Parts {
  if (zone === 'UTC') {
    const d = new Date(ts);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      ms: d.getUTCMilliseconds(),
    };
  }
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, format);
  }
  const out: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(ts))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return { year: out.year ?? 1970, month: out.month ?? 1, day: out.day ?? 1, hour: out.hour ?? 0, minute: out.minute ?? 0, second: out.second ?? 0, ms: ((ts % 1000) + 1000) % 1000 };
}

function fromParts(p: Parts, zone: string): number {
  const local = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.ms);
  if (zone === 'UTC') return local;
  let ts = local;
  for (let i = 0; i < 3; i++) {
    const q = partsOf(ts, zone);
    const offset = Date.UTC(q.year, q.month - 1, q.day, q.hour, q.minute, q.second, q.ms) - ts;
    const next = local - offset;
    if (next === ts) break;
    ts = next;
  }
  return ts;
}

/**
 * Adds `amount` units to a timestamp; days and longer follow the calendar of the zone. Months and years keep the
 * day of the month where it exists and else take the month's last day, as KairosDB (Joda-Time) does: Jan 31 + 1 month
 * is Feb 28 or 29.
 */
export function addUnits(ts: number, amount: number, unit: Unit, zone: string): number {
  const fixed = FIXED_MS[unit];
  if (fixed !== undefined) return ts + amount * fixed;
  const p = partsOf(ts, zone);
  if (unit === 'DAYS') p.day += amount;
  else if (unit === 'WEEKS') p.day += amount * 7;
  else {
    const months = p.year * 12 + p.month - 1 + (unit === 'MONTHS' ? amount : amount * 12);
    p.year = Math.floor(months / 12);
    p.month = months - p.year * 12 + 1;
    p.day = Math.min(p.day, daysInMonth(p.year, p.month));
  }
  return fromParts(p, zone);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * The sampling ranges of an aggregator: range k runs from `anchor` + k·sampling to `anchor` + (k+1)·sampling, each
 * counted from the anchor (so month ranges started on the 31st do not drift).
 */
export class SamplingGrid {
  readonly #fixed: number | undefined;
  /** Calendar range starts computed lately (each costs a time-zone conversion or two). */
  readonly #starts = new Map<number, number>();

  constructor(
    readonly anchor: number,
    readonly sampling: Duration,
    readonly zone: string,
  ) {
    this.#fixed = fixedLength(sampling, zone);
  }

  /** Where range k starts. */
  start(k: number): number {
    if (this.#fixed !== undefined) return this.anchor + k * this.#fixed;
    let start = this.#starts.get(k);
    if (start === undefined) {
      if (this.#starts.size >= 16) this.#starts.clear();
      start = addUnits(this.anchor, k * this.sampling.value, this.sampling.unit, this.zone);
      this.#starts.set(k, start);
    }
    return start;
  }

  /** The range a timestamp falls in. */
  indexOf(ts: number): number {
    let k = Math.floor((ts - this.anchor) / (this.#fixed ?? averageLength(this.sampling)));
    if (this.#fixed !== undefined) return k;
    while (this.start(k) > ts) k--;
    while (this.start(k + 1) <= ts) k++;
    return k;
  }
}

/** A fixed length in ms for units up to hours (and days/weeks in UTC); `undefined` for calendar lengths. */
export function fixedLength(duration: Duration, zone: string): number | undefined {
  const fixed = FIXED_MS[duration.unit];
  if (fixed !== undefined) return fixed * duration.value;
  if (zone !== 'UTC') return undefined;
  if (duration.unit === 'DAYS') return 86_400_000 * duration.value;
  if (duration.unit === 'WEEKS') return 604_800_000 * duration.value;
  return undefined;
}

const AVERAGE_MS: Record<Unit, number> = {
  MILLISECONDS: 1,
  SECONDS: 1000,
  MINUTES: 60_000,
  HOURS: 3_600_000,
  DAYS: 86_400_000,
  WEEKS: 604_800_000,
  MONTHS: 2_629_746_000,
  YEARS: 31_556_952_000,
};

/** A duration's length in ms, months and years at their average (30.44 days, 365.2425 days): the grid's first guess. */
function averageLength(duration: Duration): number {
  return AVERAGE_MS[duration.unit] * duration.value;
}

/** Where an aligned sampling grid starts: the query start rounded down as KairosDB does for the unit. */
export function alignStart(ts: number, unit: Unit, zone: string): number {
  const p = partsOf(ts, zone);
  p.ms = 0;
  if (unit === 'MILLISECONDS') return fromParts(p, zone);
  p.second = 0;
  p.minute = 0;
  p.hour = 0;
  if (unit === 'WEEKS') {
    const weekday = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
    p.day -= (weekday + 6) % 7;
  } else if (unit === 'MONTHS') {
    p.day = 1;
  } else if (unit === 'YEARS') {
    p.day = 1;
    p.month = 1;
  }
  return fromParts(p, zone);
}
