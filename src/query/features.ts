import { UNITS } from './time.js';

/**
 * The aggregators and groupers of the query language as declarations: their names, parameters, enum options and
 * defaults (a `defaultValue` of '' means the parameter is required). The query parser takes its names, enum options and
 * the range aggregators' defaults from here, and GET /features serves them in
 * KairosDB's shape (FeatureProcessingMetadata → FeatureProcessorMetadata → FeaturePropertyMetadata).
 */
export interface FeatureProperty {
  name: string;
  label: string;
  description?: string;
  optional: boolean;
  type: string;
  options?: string[];
  defaultValue?: string;
  autocomplete?: string;
  multiline: boolean;
  validations?: { expression: string; type: 'js'; message: string }[];
  properties?: FeatureProperty[];
}

export interface FeatureProcessor {
  name: string;
  label: string;
  description: string;
  properties: FeatureProperty[];
}

export interface Feature {
  name: string;
  label: string;
  properties: FeatureProcessor[];
}

const prop = (name: string, label: string, description: string, type: string, defaultValue: string, extra: Partial<FeatureProperty> = {}): FeatureProperty => ({
  name,
  label,
  description,
  optional: false,
  type,
  options: [],
  defaultValue,
  autocomplete: '',
  multiline: false,
  validations: [],
  ...extra,
});
const positive = (what: string) => [{ expression: 'value > 0', type: 'js' as const, message: `${what} must be greater than 0.` }];
const choice = (name: string, label: string, description: string, options: readonly string[], defaultValue: string) =>
  prop(name, label, description, 'enum', defaultValue, { options: [...options] });
const compound = (name: string, label: string, properties: FeatureProperty[]): FeatureProperty => ({ name, label, optional: false, type: 'Object', multiline: false, properties });

/** A {value, unit} duration; `defaults` only where the parser has them (a range aggregator's sampling: 1 ms). */
const duration = (name: string, label: string, what: string, defaults = { value: '', unit: '' }) =>
  compound(name, label, [
    prop('value', 'Value', `The number of units for ${what}`, 'long', defaults.value, { validations: positive('Value') }),
    choice('unit', 'Unit', `The time unit for ${what}`, UNITS, defaults.unit),
  ]);

/** Options of the enum parameters, by aggregator and parameter: what the parser accepts. */
export const OPTIONS = {
  filterOp: ['lt', 'lte', 'gt', 'gte', 'equal'],
  trim: ['first', 'last', 'both'],
  scoreOrder: ['ascending', 'descending'],
  boundary: ['superior', 'inferior'],
} as const;

/** Defaults of the sampling parameters every range aggregator has. */
export const RANGE_DEFAULTS = { alignSampling: true, alignStartTime: false, alignEndTime: false } as const;

const RANGE = [
  prop('align_sampling', 'Align sampling', 'When true, the time of each range\'s value is the start of the range instead of its first data point; align_sampling and align_start_time are mutually exclusive.', 'boolean', String(RANGE_DEFAULTS.alignSampling)),
  prop('align_start_time', 'Align start time', 'When true, ranges are aligned on the sampling unit (e.g. the top of the hour) and each value is stamped with its range\'s start.', 'boolean', String(RANGE_DEFAULTS.alignStartTime)),
  prop('align_end_time', 'Align end time', 'When true, each value is stamped with the end of its range.', 'boolean', String(RANGE_DEFAULTS.alignEndTime)),
  duration('sampling', 'Sampling', 'the aggregation ranges', { value: '1', unit: 'MILLISECONDS' }),
];

const range = (name: string, label: string, description: string, extra: FeatureProperty[] = []): FeatureProcessor => ({ name, label, description, properties: [...RANGE, ...extra] });
const plain = (name: string, label: string, description: string, properties: FeatureProperty[] = []): FeatureProcessor => ({ name, label, description, properties });

/** Every aggregator, by KairosDB name. */
export const AGGREGATOR_FEATURES: FeatureProcessor[] = [
  range('avg', 'AVG', 'Averages the data points together.'),
  range('count', 'COUNT', 'Counts the number of data points.'),
  range('dev', 'DEV', 'Calculates the standard deviation of the data points.'),
  plain('diff', 'DIFF', 'Computes the difference between successive data points.'),
  plain('div', 'DIV', 'Divides each data point by a divisor.', [prop('divisor', 'Divisor', 'The number each data point is divided by.', 'double', '', { validations: [{ expression: 'value !== 0', type: 'js', message: 'Divisor may not be zero.' }] })]),
  plain('filter', 'FILTER', 'Drops the data points that pass the test against the threshold.', [
    choice('filter_op', 'Filter operation', 'The test: less than, less than or equal, greater than, greater than or equal, or equal.', OPTIONS.filterOp, ''),
    prop('threshold', 'Threshold', 'The value each data point is compared with.', 'double', ''),
  ]),
  range('first', 'FIRST', 'Returns the first data point of each range.'),
  range('gaps', 'GAPS', 'Marks the ranges without data with null data points.'),
  range('last', 'LAST', 'Returns the last data point of each range.'),
  range('least_squares', 'LEAST SQUARES', 'Returns two points per range, on the line that best fits its data points.'),
  range('max', 'MAX', 'Returns the largest value of each range.'),
  range('min', 'MIN', 'Returns the smallest value of each range.'),
  range('percentile', 'PERCENTILE', 'Returns the given percentile of each range.', [
    prop('percentile', 'Percentile', 'The percentile, between 0 (exclusive) and 1 (inclusive).', 'double', '', { validations: [{ expression: 'value > 0 && value <= 1', type: 'js', message: 'Percentile must be greater than 0 and at most 1.' }] }),
  ]),
  plain('rate', 'RATE', 'Returns the rate of change between successive data points, per unit.', [choice('unit', 'Unit', 'The time unit of the rate.', UNITS, 'MILLISECONDS')]),
  plain('sampler', 'SAMPLER', 'Scales the values by the time since the previous data point, per unit.', [choice('unit', 'Unit', 'The time unit of the sampling.', UNITS, 'MILLISECONDS')]),
  plain('scale', 'SCALE', 'Multiplies each data point by a factor.', [prop('factor', 'Factor', 'The number each data point is multiplied by.', 'double', '')]),
  plain('score', 'SCORE', 'Scores the data based on a set of thresholds. Each data point will be mapped to a value between 0 and n where n is the number of thresholds.', [
    choice('order', 'Order', 'The order by which scores are assigned', OPTIONS.scoreOrder, 'ascending'),
    compound('thresholds', 'Thresholds', [
      choice('boundary', 'Boundary', 'Values equal to the threshold are above it with an inferior boundary and below it with a superior one.', OPTIONS.boundary, 'superior'),
      prop('value', 'Value', 'The value of the threshold', 'double', ''),
    ]),
  ]),
  plain('sma', 'SMA', 'Returns the simple moving average of the last size data points.', [prop('size', 'Size', 'The number of data points averaged.', 'int', '', { validations: positive('Size') })]),
  plain('save_as', 'SAVE AS', 'Saves the results to a new metric.', [
    prop('metric_name', 'Save As', 'The name of the metric the points are saved to.', 'String', ''),
    prop('tags', 'Tags', 'Tags the saved series get, as an object of names and values.', 'Object', '{}'),
    prop('ttl', 'TTL', 'Seconds to keep the saved points; 0 keeps them as long as points written without a TTL.', 'int', '0'),
    prop('add_saved_from', 'Add saved from', 'When true, the saved series get a saved_from tag naming the metric queried.', 'boolean', 'true'),
  ]),
  range('sum', 'SUM', 'Adds the data points together.'),
  plain('trim', 'TRIM', 'Drops the first, the last or both data points.', [choice('trim', 'Trim', 'Which data points to drop.', OPTIONS.trim, '')]),
];

/** Every grouper, by KairosDB name. */
export const GROUPER_FEATURES: FeatureProcessor[] = [
  plain('bin', 'Bin', 'Groups data points by bins of their values.', [prop('bins', 'Bins', 'The bounds of the bins, in ascending order.', 'array', '[]', { validations: [{ expression: 'value.length > 0', type: 'js', message: "Bins can't be empty." }] })]),
  plain('tag', 'Tag', 'Groups data points by tag names.', [
    prop('tags', 'Tags', 'A list of tags to group by.', 'array', '[]', { autocomplete: 'tags', validations: [{ expression: 'value.length > 0', type: 'js', message: "Tags can't be empty." }] }),
  ]),
  plain('time', 'Time', 'Groups data points in time ranges.', [
    prop('group_count', 'Group count', 'The number of groups; ranges repeat after it (e.g. 7 days of a week).', 'int', '', { validations: positive('Group count') }),
    duration('range_size', 'Range size', 'one group'),
  ]),
  plain('value', 'Value', 'Groups data points by value ranges.', [prop('range_size', 'Range size', 'The size of each value range.', 'double', '', { validations: positive('Range size') })]),
];

const byLabel = <T extends { label: string }>(items: T[]) => [...items].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
const sorted = (processors: FeatureProcessor[]) => byLabel(processors).map((p) => ({ ...p, properties: byLabel(p.properties) }));

/** The features as GET /features answers them: groupers first, then aggregators, each sorted by label as KairosDB does. */
export const FEATURES: Feature[] = [
  // 'group_by' as KairosDB's GroupByFactory names it (@FeatureComponent(name = "group_by")); its documentation's
  // 'groupby' is not what the server answers.
  { name: 'group_by', label: 'Group By', properties: sorted(GROUPER_FEATURES) },
  { name: 'aggregators', label: 'Aggregator', properties: sorted(AGGREGATOR_FEATURES) },
];

export const AGGREGATOR_NAMES: ReadonlySet<string> = new Set(AGGREGATOR_FEATURES.map((f) => f.name));
export const GROUPER_NAMES: ReadonlySet<string> = new Set(GROUPER_FEATURES.map((f) => f.name));

/** The range aggregators (those with a `sampling`): a roll-up's periods follow the last one of its chain. */
export const RANGE_AGGREGATOR_NAMES: ReadonlySet<string> = new Set(AGGREGATOR_FEATURES.filter((f) => f.properties.some((p) => p.name === 'sampling')).map((f) => f.name));
