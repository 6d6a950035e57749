import type { AggregatorSpec, Threshold } from './spec.js';
import { reducers, type Reducer } from './reducers.js';
import { addUnits, alignStart, fixedLength, SamplingGrid, type Duration } from './time.js';

/** A stage of an aggregator chain: takes points in order, passes its own on. */
export interface Sink {
  /**
   * A value is a BigInt for a long beyond ±(2^53−1). As in KairosDB, stages that compute (sum, rate, scale, …) take
   * its double; first, last, filter, trim, gaps and save_as pass the long itself on.
   */
  push(ts: number, value: number | bigint | null): void;
  /**
   * Points `from` to `to` of a page at once, as `push` would take them one by one (a stage that can, does it faster);
   * their timestamps run one way, as a query's points do.
   */
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
  /** save_as: where a stage keeps the points passing it (absent: nothing is saved). */
  saving?: (spec: AggregatorSpec) => (ts: number, value: number | bigint) => void;
}

type Factory = (spec: AggregatorSpec, ctx: ChainContext, next: Sink) => Sink;

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

  push(ts: number, value: number | bigint | null): void {
    if (value === null) return;
    if (this.#rangeStart === undefined || ts >= this.#rangeEnd || ts < this.#rangeStart) {
      this.#flush();
      this.#enter(ts);
      this.#first = ts;
      this.#reducer = this.makeReducer();
    }
    const reducer = this.#reducer as Reducer;
    // first and last keep a long beyond ±(2^53−1) as it is (they only hold and pass it on); the others take its double.
    reducer.add(ts, (typeof value === 'bigint' && !reducer.keepsLongs ? Number(value) : value) as number);
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
      const j = inRangeUntil(timestamps, i + 1, to, this.#rangeStart as number, this.#rangeEnd);
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

/**
 * The first index in [from, to) whose timestamp is outside [low, high), else `to`. The timestamps run one way (the
 * query's order), so those in the range come first: a run entirely inside is seen from its last point, else found by
 * a binary search.
 */
function inRangeUntil(timestamps: ArrayLike<number>, from: number, to: number, low: number, high: number): number {
  const inside = (k: number) => (timestamps[k] as number) < high && (timestamps[k] as number) >= low;
  if (from >= to || inside(to - 1)) return to;
  let lo = from;
  let hi = to - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (inside(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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

  push(ts: number, value: number | bigint | null): void {
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

/** A stage that maps each point to zero or one point, holding the previous one. */
function pairwise(next: Sink, map: (t1: number, v1: number, t2: number, v2: number) => number | undefined): Sink {
  let prevTs: number | undefined;
  let prev = 0;
  return {
    push(ts, value) {
      if (value === null) return;
      const v = Number(value);
      if (prevTs !== undefined) {
        const out = map(prevTs, prev, ts, v);
        if (out !== undefined) next.push(ts, out);
      }
      prevTs = ts;
      prev = v;
    },
    end: () => next.end(),
  };
}

function mapping(next: Sink, map: (v: number) => number | undefined): Sink {
  return {
    push(ts, value) {
      if (value === null) return next.push(ts, null);
      const out = map(Number(value));
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

/** Every aggregator this library runs, by KairosDB name. */
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
  filter: (spec, _ctx, next) => ({
    // The value itself passes on (a long stays exact); the test takes its double, as KairosDB's does.
    push: (ts, value) => void (value !== null && TESTS[spec.filterOp](Number(value), spec.threshold) ? undefined : next.push(ts, value)),
    end: () => next.end(),
  }),
  trim: (spec, _ctx, next) => {
    let held: [number, number | bigint | null] | undefined;
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
  save_as: (spec, ctx, next) => {
    const save = ctx.saving?.(spec);
    return {
      push(ts, value) {
        if (value !== null) save?.(ts, value);
        next.push(ts, value);
      },
      end: () => next.end(),
    };
  },
  score: (spec, _ctx, next) => mapping(next, (v) => score(v, spec.thresholds, spec.scoreOrder === 'descending')),
  sma: (spec, _ctx, next) => {
    const window: number[] = [];
    let oldest = 0;
    let sum = 0;
    return {
      push(ts, bigOrNumber) {
        if (bigOrNumber === null) return;
        const value = Number(bigOrNumber);
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
