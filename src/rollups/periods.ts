/**
 * A roll-up's periods: consecutive ranges of its sampling, rolled up once each has ended. The first starts on the
 * sampling's boundary (ms to hours: a multiple of the sampling since 1970 UTC, so 10 minutes start at :00, :10, …;
 * days and longer: the start of the unit in the query's time zone, as KairosDB's RollupUtil aligns), each next one
 * where the previous ended.
 */
import { addUnits, alignStart, unitMs, type Duration } from '../query/time.js';

/** The start of the period holding `ts`. */
export function periodStart(ts: number, sampling: Duration, zone: string): number {
  const unit = unitMs(sampling.unit);
  if (unit === undefined) return alignStart(ts, sampling.unit, zone);
  const length = unit * sampling.value;
  return Math.floor(ts / length) * length;
}

/** Where the period starting at `start` ends (the next one's start). */
function periodEnd(start: number, sampling: Duration, zone: string): number {
  return addUnits(start, sampling.value, sampling.unit, zone);
}

/** The periods from `from` on that have ended by `now`, as [start, end) pairs. */
export function* endedPeriods(from: number, now: number, sampling: Duration, zone: string): Generator<[number, number]> {
  for (let start = from, end = periodEnd(start, sampling, zone); end <= now; start = end, end = periodEnd(start, sampling, zone)) yield [start, end];
}
