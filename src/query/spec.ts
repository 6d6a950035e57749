import type { Duration } from './time.js';

/** A parsed and validated query. */
export interface QuerySpec {
  /** Inclusive window, ms. */
  start: number;
  end: number;
  timeZone: string;
  metrics: MetricQuery[];
}

/** One entry of `metrics`. */
export interface MetricQuery {
  name: string;
  tags: Record<string, string[]>;
  excludeTags: boolean;
  /** Raw points read at most; 0 is no limit. */
  limit: number;
  order: 'asc' | 'desc';
  groupBy: GrouperSpec[];
  aggregators: AggregatorSpec[];
}

/** A grouper of `group_by`. */
export type GrouperSpec =
  | { name: 'tag'; tags: string[] }
  | { name: 'time'; rangeSize: Duration; groupCount: number }
  | { name: 'value'; rangeSize: number };

/** An aggregator with its options resolved. */
export interface AggregatorSpec {
  name: string;
  sampling: Duration;
  alignSampling: boolean;
  alignStartTime: boolean;
  alignEndTime: boolean;
  /** rate, sampler: the unit the result is per. */
  unit: Duration;
  percentile: number;
  divisor: number;
  factor: number;
  filterOp: 'lt' | 'lte' | 'gt' | 'gte' | 'equal';
  threshold: number;
  trim: 'first' | 'last' | 'both';
  size: number;
}
