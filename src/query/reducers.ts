/**
 * The per-range reducers of KairosDB's range aggregators (avg, count, dev, first, last, least_squares, max, min,
 * percentile, sum): each takes a range's values, one by one or a run at a time, and gives the range's result.
 */
import type { AggregatorSpec } from './spec.js';

/** Where a reducer puts a range's result (the next stage of the chain). */
export interface Out {
  push(ts: number, value: number | bigint | null): void;
}

/** A range aggregator's per-range state: takes values, gives the range's result. */
export interface Reducer {
  add(ts: number, value: number): void;
  /** Points `from` to `to`, all in the range: one call per run instead of one per point. */
  addRun(timestamps: ArrayLike<number>, values: ArrayLike<number>, from: number, to: number): void;
  /** The output points of a range with at least one value, stamped by `stamp` unless the reducer stamps itself. */
  emit(stamp: number, out: Out): void;
  /** first and last: a long beyond ±(2^53−1) is handed over as a BigInt and passed on as it is (the others get its double). */
  keepsLongs?: true;
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

/** The least or the greatest value: `pick` (Math.min or Math.max) over all of them. */
function extreme(pick: (a: number, b: number) => number, start: number): Reducer {
  let best = start;
  return single(
    () => best,
    (_t, v) => void (best = pick(best, v)),
    (_ts, values, from, to) => {
      for (let i = from; i < to; i++) best = pick(best, values[i] as number);
    },
  );
}

export const reducers: Record<string, (spec: AggregatorSpec) => Reducer> = {
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
  min: () => extreme(Math.min, Infinity),
  max: () => extreme(Math.max, -Infinity),
  first: () => {
    let first: number | bigint | undefined;
    return { ...single(() => first as number, (_t, v: number | bigint) => void (first ??= v)), keepsLongs: true };
  },
  last: (spec) => {
    let lastTs = 0;
    let last: number | bigint = 0;
    return {
      keepsLongs: true,
      add: (t, v: number | bigint) => ((lastTs = t), (last = v)),
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
