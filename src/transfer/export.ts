/**
 * Export in KairosDB's format (`kairosdb.sh export`): one JSON object per line, `{"name","tags","type","datapoints"}`,
 * with the remaining `ttl` in seconds. A series is cut into lines of at most `pointsPerLine` points; a line whose
 * points expire at different times gives each point its TTL as a fourth element (`[ts, value, type, ttl]`, which
 * KairosDB's import reads past, and `importData` keeps).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { PointPage, SeriesRead, Store } from '../store-api/contract.js';
import { TypeRegistry } from '../types/registry.js';
import type { ValueType } from '../types/value-type.js';
import { ProgressClock, type TransferProgress } from './progress.js';

/** Options of {@link exportData}. */
export interface ExportOptions {
  /** The metrics to export. @default every metric of the store */
  metrics?: readonly string[];
  /** Types of the stored series (a custom type must be registered to be exported). @default the built-in types */
  types?: TypeRegistry;
  /** Most points in one line. @default 10000 */
  pointsPerLine?: number;
  /** Called about once a second, and once at the end. */
  onProgress?: (progress: TransferProgress) => void;
  /** Current time in ms, for remaining TTLs. @default Date.now */
  clock?: () => number;
}

/**
 * Writes a store's series to `out` in KairosDB's export format, a metric at a time and a page of points at a time
 * (bounded memory), waiting for `out` to drain. Resolves with the totals; does not end `out`.
 * @example
 * await exportData(new SqliteStore({ path: 'metrics.db' }), createWriteStream('export.txt'));
 */
export async function exportData(store: Store, out: Writable, options: ExportOptions = {}): Promise<TransferProgress> {
  const types = options.types ?? new TypeRegistry();
  const pointsPerLine = options.pointsPerLine ?? 10_000;
  if (!Number.isSafeInteger(pointsPerLine) || pointsPerLine < 1) throw new TypeError(`exportData: pointsPerLine must be a positive integer, got ${String(pointsPerLine)}`);
  const clock = options.clock ?? Date.now;
  const metrics = options.metrics ?? (await store.metricNames());
  const progress = new ProgressClock(options.onProgress, metrics.length);
  const write = async (line: string) => {
    progress.bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  };
  for (const metric of metrics) {
    for await (const series of store.read({ metric, expiry: true })) {
      const type = types.get(series.type);
      if (!type) throw new Error(`exportData: metric '${metric}' has series of type '${series.type}', which is not registered: give exportData the TypeRegistry that has it (CLI: --types)`);
      const lines = new LineBuilder(series, type, pointsPerLine);
      for await (const page of series.points()) {
        const now = clock();
        for (let i = 0; i < page.timestamps.length; i++) {
          const ttl = remainingTtl(page, i, now);
          if (ttl < 0) continue;
          const full = lines.add(page.timestamps[i] as number, type.toJSON(type.decode(page.values[i] as never)), ttl);
          if (full) await write(full);
          progress.points++;
        }
        progress.tick();
      }
      const last = lines.flush();
      if (last) await write(last);
      progress.series++;
    }
    progress.metricsDone++;
  }
  return progress.finish();
}

/** A point's TTL left in whole seconds (rounded up; 0 never expires), or -1 once it has expired. */
function remainingTtl(page: PointPage, i: number, now: number): number {
  const expires = page.expires?.[i] ?? 0;
  if (expires === 0) return 0;
  return expires > now ? Math.ceil((expires - now) / 1000) : -1;
}

/** The lines of one series: points gathered until a line is full. */
class LineBuilder {
  readonly #head: string;
  readonly #typeName: string;
  #points: string[] = [];
  #ttls: number[] = [];

  constructor(
    series: SeriesRead,
    type: ValueType,
    readonly pointsPerLine: number,
  ) {
    this.#head = `{"name":${JSON.stringify(series.metric)},"tags":${JSON.stringify(series.tags)},"type":${JSON.stringify(type.name)}`;
    this.#typeName = JSON.stringify(type.name);
  }

  /** Adds a point; returns a full line when this one filled it. */
  add(timestamp: number, value: unknown, ttl: number): string | undefined {
    this.#points.push(`${timestamp},${typeof value === 'bigint' ? value.toString() : JSON.stringify(value)}`);
    this.#ttls.push(ttl);
    return this.#points.length >= this.pointsPerLine ? this.flush() : undefined;
  }

  /** The line of the points gathered (none when there are none). */
  flush(): string | undefined {
    if (this.#points.length === 0) return undefined;
    const ttls = this.#ttls;
    const first = ttls[0] as number;
    const uniform = ttls.every((t) => t === first);
    const points = uniform ? this.#points.map((p) => `[${p}]`) : this.#points.map((p, i) => `[${p},${this.#typeName},${ttls[i] as number}]`);
    const line = `${this.#head}${uniform && first > 0 ? `,"ttl":${first}` : ''},"datapoints":[${points.join(',')}]}\n`;
    this.#points = [];
    this.#ttls = [];
    return line;
  }
}
