import type { AggregatorSpec, Threshold } from './spec.js';
import { addUnits, alignStart, fixedLength, SamplingGrid, type Duration } from './time.js';

/** A stage of an aggregator chain: takes points in order, passes its own on. */
export interface Sink {
  push(ts: number, value: number | null): void;
  /** Points `from` to `to` of a page at once, as `push` would take them one by one (a stage that can, does it faster). */
  pushRun?(timestamps: ArrayLike<number>, values: ArrayLike<number>, from: number, to: number): void;
  end(): void;
}

/** Points `from` to `to` of a page into a sink: in one call where the sink takes runs. */
export function pushRun(sink: Sink, timestamps: ArrayLike<number>, values: ArrayLike<number>, from: number, to: number): void {
  if (sink.pushRun) return sink.pushRun(timestamps, values, from, to);
  for (let i = from; i < to; i++) sink.push(timestamps[i] as number, values[i] as number);
}

/** What every aggregator of a query may need besides its options. */
export interface ChainContext {
  start: number;
  end: number;
  zone: string;
  now: number;
}

type Factory = (spec: AggregatorSpec, ctx: ChainContext, next: Sink) => Sink;

/** A range aggregator's per-range state: takes values, gives the range's result. */
interface Reducer {
  add(ts: number, value: number): void;
  /** Points `from` to `to`, all in the range: one call per run instead of one per point. */
  addRun(timestamps: ArrayLike<number>, values: ArrayLike<number>, from: number, to: number): void;
  /** The output points of a range with at least one value, stamped by `stamp` unless the reducer stamps itself. */
  emit(stamp: number, out: Sink): void;
}


/** Walks the sampling grid of a range aggregator and feeds one reducer per non-empty range. */
class RangeStage implements Sink {
  #rangeStart: number | undefined;
  #rangeEnd = 0;
  #first = 0;
  #reducer: Reducer | undefined;
  readonly #grid: SamplingGrid;

  constructor(
    readonly spec: AggregatorSpec,
    readonly ctx: ChainContext,
    readonly makeReducer: () => Reducer,
    readonly next: Sink,
  ) {
    this.#grid = samplingGrid(spec, ctx);
  }

  push(ts: number, value: number | null): void {
    if (value === null) return;
    if (this.#rangeStart === undefined || ts >= this.#rangeEnd || ts < this.#rangeStart) {
      this.#flush();
      this.#enter(ts);
      this.#first = ts;
      this.#reducer = this.makeReducer();
    }
    (this.#reducer as Reducer).add(ts, value);
  }

  pushRun(timestamps: ArrayLike<number>, values: ArrayLike<number>, from: number, to: number): void {
    for (let i = from; i < to; ) {
      const ts = timestamps[i] as number;
      if (this.#rangeStart === undefined || ts >= this.#rangeEnd || ts < this.#rangeStart) {
        this.#flush();
        this.#enter(ts);
        this.#first = ts;
        this.#reducer = this.makeReducer();
      }
      // The points up to the next range boundary (in either order) go to the reducer as one run.
      const low = this.#rangeStart as number;
      const high = this.#rangeEnd;
      let j = i + 1;
      while (j < to && (timestamps[j] as number) < high && (timestamps[j] as number) >= low) j++;
      (this.#reducer as Reducer).addRun(timestamps, values, i, j);
      i = j;
    }
  }

  end(): void {
    this.#flush();
    this.next.end();
  }

  #enter(ts: number): void {
    const k = this.#grid.indexOf(ts);
    this.#rangeStart = this.#grid.start(k);
    this.#rangeEnd = this.#grid.start(k + 1);
  }

  #flush(): void {
    if (!this.#reducer || this.#rangeStart === undefined) return;
    const stamp = this.spec.alignStartTime ? this.#rangeStart : this.spec.alignEndTime ? this.#rangeEnd : this.#first;
    this.#reducer.emit(stamp, this.next);
    this.#reducer = undefined;
  }
}

/** The length of rate's or sampler's unit from a point on, as KairosDB counts it: in the query's calendar. */
function unitLength(unit: Duration, zone: string): (from: number) => number {
  const fixed = fixedLength(unit, zone);
  return fixed !== undefined ? () => fixed : (from) => addUnits(from, unit.value, unit.unit, zone) - from;
}

/** The sampling grid of a range aggregator or gaps: anchored at the query start, rounded down when `align_sampling`. */
function samplingGrid(spec: AggregatorSpec, ctx: ChainContext): SamplingGrid {
  const anchor = spec.alignSampling ? alignStart(ctx.start, spec.sampling.unit, ctx.zone) : ctx.start;
  return new SamplingGrid(anchor, spec.sampling, ctx.zone);
}

/** Passes points on and marks each empty sampling range between the query start and end with a null. */
class GapsStage implements Sink {
  readonly #grid: SamplingGrid;
  /** The current range and where it starts and ends. */
  #range = 0;
  #cursor: number;
  #end: number;
  #seenInRange = false;

  constructor(
    readonly spec: AggregatorSpec,
    readonly ctx: ChainContext,
    readonly next: Sink,
  ) {
    this.#grid = samplingGrid(spec, ctx);
    this.#cursor = this.#grid.start(0);
    this.#end = this.#grid.start(1);
  }

  #advanceTo(limit: number): void {
    while (this.#end <= limit) {
      if (!this.#seenInRange && this.#cursor >= this.ctx.start) this.next.push(this.#cursor, null);
      this.#range++;
      this.#cursor = this.#end;
      this.#end = this.#grid.start(this.#range + 1);
      this.#seenInRange = false;
    }
  }

  push(ts: number, value: number | null): void {
    this.#advanceTo(ts);
    this.#seenInRange = true;
    this.next.push(ts, value);
  }

  /** Marks the empty ranges up to the one holding the query's end (clamped to now): the window is inclusive at both ends. */
  end(): void {
    const last = Math.min(this.ctx.end, this.ctx.now);
    if (this.#cursor <= last) this.#advanceTo(this.#grid.start(this.#grid.indexOf(last) + 1));
    this.next.end();
  }
}

type Run = (timestamps: ArrayLike<number>, values: ArrayLike<number>, from: number, to: number) => void;

/** A run of points added one by one, for reducers without a faster way. */
const eachOf =
  (add: (ts: number, v: number) => void): Run =>
  (timestamps, values, from, to) => {
    for (let i = from; i < to; i++) add(timestamps[i] as number, values[i] as number);
  };

const single = (compute: () => number, add: (ts: number, v: number) => void, addRun: Run = eachOf(add)): Reducer => ({
  add,
  addRun,
  emit: (stamp, out) => out.push(stamp, compute()),
});

const reducers: Record<string, (spec: AggregatorSpec) => Reducer> = {
  avg: () => {
    let sum = 0;
    let n = 0;
    return single(
      () => sum / n,
      (_t, v) => ((sum += v), n++),
      (_ts, values, from, to) => {
        for (let i = from; i < to; i++) sum += values[i] as number;
        n += to - from;
      },
    );
  },
  count: () => {
    let n = 0;
    return single(
      () => n,
      () => void n++,
      (_ts, _values, from, to) => void (n += to - from),
    );
  },
  sum: () => {
    let sum = 0;
    return single(
      () => sum,
      (_t, v) => void (sum += v),
      (_ts, values, from, to) => {
        for (let i = from; i < to; i++) sum += values[i] as number;
      },
    );
  },
  min: () => {
    let min = Infinity;
    return single(
      () => min,
      (_t, v) => void (min = Math.min(min, v)),
      (_ts, values, from, to) => {
        for (let i = from; i < to; i++) min = Math.min(min, values[i] as number);
      },
    );
  },
  max: () => {
    let max = -Infinity;
    return single(
      () => max,
      (_t, v) => void (max = Math.max(max, v)),
      (_ts, values, from, to) => {
        for (let i = from; i < to; i++) max = Math.max(max, values[i] as number);
      },
    );
  },
  first: () => {
    let first: number | undefined;
    return single(() => first as number, (_t, v) => void (first ??= v));
  },
  last: (spec) => {
    let lastTs = 0;
    let last = 0;
    return {
      add: (t, v) => ((lastTs = t), (last = v)),
      addRun: (timestamps, values, _from, to) => ((lastTs = timestamps[to - 1] as number), (last = values[to - 1] as number)),
      emit: (stamp, out) => out.push(spec.alignStartTime || spec.alignEndTime ? stamp : lastTs, last),
    };
  },
  dev: () => {
    let n = 0;
    let mean = 0;
    let m2 = 0;
    return single(
      () => (n > 1 ? Math.sqrt(m2 / (n - 1)) : 0),
      (_t, v) => {
        n++;
        const delta = v - mean;
        mean += delta / n;
        m2 += delta * (v - mean);
      },
    );
  },
  percentile: (spec) => {
    const values: number[] = [];
    return single(() => percentileOf(values, spec.percentile), (_t, v) => void values.push(v));
  },
  least_squares: () => {
    let n = 0;
    let t0 = 0;
    let tLast = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let sxy = 0;
    const add = (t: number, v: number) => {
      if (n === 0) t0 = t;
      tLast = t;
      const x = t - t0;
      n++;
      sx += x;
      sy += v;
      sxx += x * x;
      sxy += x * v;
    };
    return {
      add,
      addRun: eachOf(add),
      emit: (_stamp, out) => {
        const denominator = n * sxx - sx * sx;
        if (n === 1 || denominator === 0) return out.push(t0, sy / n);
        const slope = (n * sxy - sx * sy) / denominator;
        const intercept = (sy - slope * sx) / n;
        out.push(t0, intercept);
        out.push(tLast, intercept + slope * (tLast - t0));
      },
    };
  },
};

/**
 * The p-th percentile of values: position p·(n+1) over the sorted values, linearly interpolated. Found by selection
 * with random pivots (expected linear time whatever order the values come in), not by sorting.
 */
export function percentileOf(values: readonly number[], p: number): number {
  const n = values.length;
  const a = Float64Array.from(values);
  const position = p * (n + 1);
  if (position < 1) return select(a, 0);
  if (position >= n) return select(a, n - 1);
  const lower = Math.floor(position);
  const below = select(a, lower - 1);
  let above = Infinity;
  for (let i = lower; i < n; i++) if ((a[i] as number) < above) above = a[i] as number;
  return below + (position - lower) * (above - below);
}

/** The k-th smallest value (0-based); leaves `a` partitioned around it (smaller before k, larger or equal after). */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (left < right) {
    const pivot = a[left + Math.floor(Math.random() * (right - left + 1))] as number;
    let i = left;
    let j = right;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i++] = a[j] as number;
        a[j--] = t;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k] as number;
  }
  return a[k] as number;
}

/** A stage that maps each point to zero or one point, holding the previous one. */
function pairwise(next: Sink, map: (t1: number, v1: number, t2: number, v2: number) => number | undefined): Sink {
  let prevTs: number | undefined;
  let prev = 0;
  return {
    push(ts, value) {
      if (value === null) return;
      if (prevTs !== undefined) {
        const out = map(prevTs, prev, ts, value);
        if (out !== undefined) next.push(ts, out);
      }
      prevTs = ts;
      prev = value;
    },
    end: () => next.end(),
  };
}

function mapping(next: Sink, map: (v: number) => number | undefined): Sink {
  return {
    push(ts, value) {
      if (value === null) return next.push(ts, null);
      const out = map(value);
      if (out !== undefined) next.push(ts, out);
    },
    end: () => next.end(),
  };
}

const TESTS = {
  lt: (v: number, t: number) => v < t,
  lte: (v: number, t: number) => v <= t,
  gt: (v: number, t: number) => v > t,
  gte: (v: number, t: number) => v >= t,
  equal: (v: number, t: number) => v === t,
};

/**
 * KairosDB's `score`: how many thresholds lie below the value (binary search over the sorted thresholds; a value
 * equal to a threshold is above an `inferior` one and below a `superior` one), counted from the top when descending.
 */
function score(value: number, thresholds: readonly Threshold[], descending: boolean): number {
  let low = 0;
  let high = thresholds.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const t = thresholds[mid] as Threshold;
    if (value > t.value || (value === t.value && t.boundary === 'inferior')) low = mid + 1;
    else high = mid;
  }
  return descending ? thresholds.length - low : low;
}

const range = (name: string): Factory => (spec, ctx, next) => new RangeStage(spec, ctx, () => (reducers[name] as (s: AggregatorSpec) => Reducer)(spec), next);

/** Every aggregator this library runs, by KairosDB name (all of KairosDB's except save_as). */
export const AGGREGATORS: Record<string, Factory> = {
  avg: range('avg'),
  count: range('count'),
  dev: range('dev'),
  first: range('first'),
  last: range('last'),
  least_squares: range('least_squares'),
  max: range('max'),
  min: range('min'),
  percentile: range('percentile'),
  sum: range('sum'),
  gaps: (spec, ctx, next) => new GapsStage(spec, ctx, next),
  diff: (_spec, _ctx, next) => pairwise(next, (_t1, v1, _t2, v2) => v2 - v1),
  rate: (spec, ctx, next) => {
    const per = unitLength(spec.unit, ctx.zone);
    return pairwise(next, (t1, v1, t2, v2) => (t2 === t1 ? undefined : ((v2 - v1) / (t2 - t1)) * per(t1)));
  },
  sampler: (spec, ctx, next) => {
    const per = unitLength(spec.unit, ctx.zone);
    return pairwise(next, (t1, _v1, t2, v2) => (t2 === t1 ? undefined : (v2 / (t2 - t1)) * per(t1)));
  },
  div: (spec, _ctx, next) => mapping(next, (v) => v / spec.divisor),
  scale: (spec, _ctx, next) => mapping(next, (v) => v * spec.factor),
  filter: (spec, _ctx, next) => mapping(next, (v) => (TESTS[spec.filterOp](v, spec.threshold) ? undefined : v)),
  trim: (spec, _ctx, next) => {
    let held: [number, number | null] | undefined;
    let seen = 0;
    return {
      push(ts, value) {
        seen++;
        if (seen === 1 && spec.trim !== 'last') return;
        if (held) next.push(held[0], held[1]);
        held = [ts, value];
      },
      end() {
        if (held && spec.trim === 'first') next.push(held[0], held[1]);
        next.end();
      },
    };
  },
  score: (spec, _ctx, next) => mapping(next, (v) => score(v, spec.thresholds, spec.scoreOrder === 'descending')),
  sma: (spec, _ctx, next) => {
    const window: number[] = [];
    let oldest = 0;
    let sum = 0;
    return {
      push(ts, value) {
        if (value === null) return;
        sum += value;
        if (window.length < spec.size) window.push(value);
        else {
          sum -= window[oldest] as number;
          window[oldest] = value;
          oldest = (oldest + 1) % spec.size;
        }
        if (window.length === spec.size) next.push(ts, sum / spec.size);
      },
      end: () => next.end(),
    };
  },
};

/** Builds the chain of a metric's aggregators in order, ending in `last`. */
export function chain(specs: readonly AggregatorSpec[], ctx: ChainContext, last: Sink): Sink {
  let sink = last;
  for (let i = specs.length - 1; i >= 0; i--) {
    const spec = specs[i] as AggregatorSpec;
    sink = (AGGREGATORS[spec.name] as Factory)(spec, ctx, sink);
  }
  return sink;
}
