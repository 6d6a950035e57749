import type { Logger } from '../logger.js';
import type { SeriesWrite, Store, Tags } from '../store-api/contract.js';
import type { MetricInfo } from './registry.js';
import type { SelfMetrics } from './self-metrics.js';

/** Settings of the `statistics` option of `kairosdb()`. */
export interface StatisticsOptions {
  /** How often the statistics are written, ms (at least 1000). @default 60000 */
  intervalMs?: number;
  /** Put before every name. @default 'kairosdb.' */
  prefix?: string;
  /** Tags of every statistic; a tenant-bound mount's readers see them only with the tenant tag among these. @default { host: os.hostname() } */
  tags?: Record<string, string>;
  /** Seconds to keep them; 0 forever. @default 0 */
  ttl?: number;
}

/** Settings of the statistics a mount writes into its own store, as KairosDB does. */
export interface StatisticsSettings {
  /** How often they are written, ms. */
  readonly intervalMs: number;
  /** Put before every name (`kairosdb.` gives `kairosdb.http.request_count`). */
  readonly prefix: string;
  /** Tags of every statistic (e.g. `{ host: 'web-1' }`; a tenant-bound mount adds its tenant tag here to see them). */
  readonly tags: Readonly<Record<string, string>>;
  /** Seconds to keep them; 0 forever. */
  readonly ttl: number;
}

/**
 * Writes the mount's metrics into the store every `intervalMs` (the timer does not keep the process alive): counters
 * as the count since the previous write, histograms as the mean in ms over that time, gauges as they are. A failed
 * write is logged (once until one succeeds) and never retried. Returns what stops it.
 */
export function startStatistics(metrics: SelfMetrics, store: Store, settings: StatisticsSettings, clock: () => number, logger: Logger): () => void {
  const before = new Map<string, number>();
  let writing = false;
  let failing = false;
  const report = async () => {
    if (writing) return;
    writing = true;
    try {
      await store.write(await statisticsSeries(metrics, settings, clock(), before));
      failing = false;
    } catch (error) {
      if (!failing) logger.warn({ err: error }, 'koa-kairosdb: writing the statistics failed (tried again at the next interval)');
      failing = true;
    } finally {
      writing = false;
    }
  };
  const timer = setInterval(() => void report(), settings.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The series of one report; `before` holds the counts of the previous one (updated). */
export async function statisticsSeries(metrics: SelfMetrics, settings: StatisticsSettings, now: number, before: Map<string, number>): Promise<SeriesWrite[]> {
  const series: SeriesWrite[] = [];
  const add = (m: MetricInfo, labels: readonly string[], value: number) => {
    const tags: Record<string, string> = { ...settings.tags };
    m.labelNames.forEach((name, i) => (tags[name] = labels[i] || '-'));
    const integer = Number.isSafeInteger(value);
    series.push({
      metric: `${settings.prefix}${m.storeName}`,
      tags: sortedTags(tags),
      type: integer ? 'long' : 'double',
      storage: integer ? 'long' : 'double',
      ttl: settings.ttl,
      timestamps: [now],
      values: [value],
    });
  };
  /** The growth of a running total since the previous report. */
  const since = (key: string, total: number) => {
    const growth = total - (before.get(key) ?? 0);
    before.set(key, total);
    return growth;
  };
  for (const counter of metrics.counters()) {
    for (const s of counter.samples()) add(counter.info, s.labels, since(`${counter.info.name}|${s.labels.join('|')}`, s.value));
  }
  for (const histogram of metrics.histograms()) {
    for (const s of histogram.samples()) {
      const key = `${histogram.info.name}|${s.labels.join('|')}`;
      const count = since(`${key}|count`, s.count);
      const sum = since(`${key}|sum`, s.sum);
      if (count > 0) add(histogram.info, s.labels, (sum * 1000) / count);
    }
  }
  for (const gauge of await metrics.collectGauges()) for (const s of gauge.samples) add(gauge.info, s.labels, s.value);
  return series;
}

function sortedTags(tags: Record<string, string>): Tags {
  const sorted: Record<string, string> = Object.create(null);
  for (const name of Object.keys(tags).sort()) sorted[name] = tags[name] as string;
  return sorted;
}
