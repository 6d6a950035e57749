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
  | { name: 'value'; rangeSize: number }
  | { name: 'bin'; bins: number[] };

/** A threshold of the `score` aggregator: a value equal to it counts as above it with an `inferior` boundary. */
export interface Threshold {
  value: number;
  boundary: 'superior' | 'inferior';
}

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
  /** score: thresholds in KairosDB's order (by value, `inferior` before `superior` at equal values). */
  thresholds: Threshold[];
  /** score: `descending` counts from the top. */
  scoreOrder: 'ascending' | 'descending';
  /** save_as: where the points passing this stage are saved. */
  saveAs?: SaveAs;
}

/** The parameters of a `save_as` aggregator. */
export interface SaveAs {
  metric: string;
  /** Tags every saved series gets (before `saved_from` and the grouped tags). */
  tags: Readonly<Record<string, string>>;
  /** Seconds to keep the saved points; 0: the mount's default TTL, as an ingest body without `ttl`. */
  ttl: number;
  /** Whether a `saved_from` tag names the metric the points were read from (KairosDB's default: true). */
  addSavedFrom: boolean;
}
