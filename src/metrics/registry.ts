/** One labelled value of a metric: its label values in the order the metric names them. */
export interface Sample {
  readonly labels: readonly string[];
  readonly value: number;
}

/** A histogram's figures for one label set: counts per upper bound (not cumulative), sum and count. */
export interface HistogramSample {
  readonly labels: readonly string[];
  readonly buckets: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** What every metric declares: its Prometheus name, help text, label names and its name when written to a store. */
export interface MetricInfo {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** The KairosDB-style name, below the statistics prefix (e.g. `http.request_count`). */
  readonly storeName: string;
}

const SEP = '\u0000';

/** A monotonic count per label set. */
export class Counter {
  readonly #values = new Map<string, { labels: readonly string[]; value: number }>();

  constructor(readonly info: MetricInfo) {}

  inc(labels: readonly string[], by = 1): void {
    const key = labels.join(SEP);
    const entry = this.#values.get(key);
    if (entry) entry.value += by;
    else this.#values.set(key, { labels: [...labels], value: by });
  }

  samples(): Sample[] {
    return [...this.#values.values()].map(({ labels, value }) => ({ labels, value }));
  }
}

/** Observed values per label set, counted in fixed buckets (upper bounds, ascending), with their sum. */
export class Histogram {
  readonly #values = new Map<string, { labels: readonly string[]; buckets: number[]; sum: number; count: number }>();

  constructor(
    readonly info: MetricInfo,
    readonly bounds: readonly number[],
  ) {}

  observe(labels: readonly string[], value: number): void {
    const key = labels.join(SEP);
    let entry = this.#values.get(key);
    if (!entry) this.#values.set(key, (entry = { labels: [...labels], buckets: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 }));
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    (entry.buckets[i] as number)++;
    entry.sum += value;
    entry.count++;
  }

  samples(): HistogramSample[] {
    return [...this.#values.values()].map(({ labels, buckets, sum, count }) => ({ labels, buckets: [...buckets], sum, count }));
  }
}

/** Prometheus' text format (0.0.4) of counters, histograms and gauges read at this moment. */
export function exposition(counters: readonly Counter[], histograms: readonly Histogram[], gauges: readonly { info: MetricInfo; samples: readonly Sample[] }[]): string {
  const out: string[] = [];
  const head = (info: MetricInfo, type: string) => out.push(`# HELP ${info.name} ${info.help}`, `# TYPE ${info.name} ${type}`);
  for (const counter of counters) {
    head(counter.info, 'counter');
    for (const s of counter.samples()) out.push(`${counter.info.name}${labelText(counter.info.labelNames, s.labels)} ${s.value}`);
  }
  for (const histogram of histograms) {
    const { info, bounds } = histogram;
    head(info, 'histogram');
    for (const s of histogram.samples()) {
      let cumulative = 0;
      s.buckets.forEach((n, i) => {
        cumulative += n;
        const le = i < bounds.length ? String(bounds[i]) : '+Inf';
        out.push(`${info.name}_bucket${labelText([...info.labelNames, 'le'], [...s.labels, le])} ${cumulative}`);
      });
      out.push(`${info.name}_sum${labelText(info.labelNames, s.labels)} ${s.sum}`, `${info.name}_count${labelText(info.labelNames, s.labels)} ${s.count}`);
    }
  }
  for (const gauge of gauges) {
    head(gauge.info, 'gauge');
    for (const s of gauge.samples) out.push(`${gauge.info.name}${labelText(gauge.info.labelNames, s.labels)} ${s.value}`);
  }
  return `${out.join('\n')}\n`;
}

function labelText(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return '';
  return `{${names.map((name, i) => `${name}="${escapeLabel(values[i] ?? '')}"`).join(',')}}`;
}

const escapeLabel = (value: string) => value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
