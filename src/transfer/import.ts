/**
 * Import of KairosDB's export format (`kairosdb.sh import`): one JSON object (or array of them) per line, each
 * checked as a POST /datapoints body is. A point's own TTL as a fourth element (`[ts, value, type, ttl]`, as
 * `exportData` writes when a line's points expire at different times) is kept; else the line's `ttl`.
 */
import { mayHoldLongIntegers, parseExact } from '../json-exact.js';
import { createIngest, type IngestResult } from '../ingest/ingest.js';
import type { SeriesWrite, Store } from '../store-api/contract.js';
import { seriesKey } from '../store-api/series-key.js';
import { TypeRegistry } from '../types/registry.js';
import { ProgressClock, type TransferProgress } from './progress.js';

/** Options of {@link importData}. */
export interface ImportOptions {
  /** Types the lines may use. @default the built-in types */
  types?: TypeRegistry;
  /** Longest line, bytes; a longer one stops the import. @default 67108864 (64 MiB) */
  maxLineBytes?: number;
  /** Points gathered before they are written. @default 20000 */
  batchPoints?: number;
  /** Called about once a second, and once at the end. */
  onProgress?: (progress: TransferProgress) => void;
}

/** An import stopped by a line that cannot be stored; the lines before it are stored. */
export class ImportError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'ImportError';
  }
}

/**
 * Stores the lines of `input` (bytes, e.g. a file stream; gunzip it first when compressed) in `store`, a batch of
 * about `batchPoints` points at a time: memory stays bounded by a batch and the longest line. Rejects with an
 * {@link ImportError} naming the first line that is not valid (those before it are stored), or the store's error.
 * @example
 * await importData(new CassandraStore({ contactPoints: ['10.0.0.1'], localDataCenter: 'dc1' }), createReadStream('export.txt'));
 */
export async function importData(store: Store, input: AsyncIterable<Buffer | string>, options: ImportOptions = {}): Promise<TransferProgress> {
  const ingest = createIngest({ types: options.types ?? new TypeRegistry(), defaultTtl: 0, maxErrors: 3, maxJsonDepth: 64 });
  const batchPoints = options.batchPoints ?? 20_000;
  const progress = new ProgressClock(options.onProgress);
  let pending = new Map<string, SeriesWrite>();
  let pendingPoints = 0;
  const flush = async () => {
    if (pending.size === 0) return;
    const series = [...pending.values()];
    pending = new Map();
    await store.write(series);
    progress.points += pendingPoints;
    pendingPoints = 0;
    progress.tick();
  };
  const take = async (line: string, number: number) => {
    let parsed: unknown;
    try {
      // Longs beyond ±(2^53−1) are read exactly, as an ingest body's are.
      parsed = (await mayHoldLongIntegers(line)) ? await parseExact(line) : JSON.parse(line);
    } catch (error) {
      throw new ImportError(number, `not JSON: ${(error as Error).message}`);
    }
    for (const body of byPointTtl(parsed)) {
      for (const series of await seriesOf(ingest(body), number)) {
        const key = seriesKey(series.metric, series.type, series.tags);
        // A series once per write (the store contract): a second part of it waits for the next write.
        if (pending.has(key) || pendingPoints >= batchPoints) await flush();
        pending.set(key, series);
        pendingPoints += series.timestamps.length;
      }
    }
    progress.series++;
  };
  let number = 0;
  try {
    for await (const { line, bytes } of lines(input, options.maxLineBytes ?? 64 * 1024 * 1024)) {
      progress.bytes += bytes;
      if (line.trim() !== '') await take(line, ++number);
      else number++;
    }
  } catch (error) {
    // The lines before a bad one are stored, as the message says.
    if (error instanceof ImportError) await flush();
    throw error;
  }
  await flush();
  return progress.finish();
}

async function seriesOf(result: IngestResult, line: number): Promise<SeriesWrite[]> {
  if (result.ok) return result.series;
  throw new ImportError(line, (await result.explain()).join('; '));
}

/**
 * A line's metrics as bodies of one TTL each: a metric whose points carry their own TTL (a fourth element) is split by
 * it (one body of the same series would keep one TTL).
 */
function byPointTtl(parsed: unknown): unknown[] {
  const metrics = Array.isArray(parsed) ? parsed : [parsed];
  if (!metrics.some(hasPointTtls)) return [parsed];
  const plain: unknown[] = [];
  const byTtl = new Map<number, unknown[]>();
  for (const metric of metrics) {
    if (!hasPointTtls(metric)) {
      plain.push(metric);
      continue;
    }
    const groups = new Map<number, unknown[][]>();
    for (const point of metric.datapoints as unknown[][]) {
      const ttl = typeof point[3] === 'number' ? point[3] : -1;
      let group = groups.get(ttl);
      if (!group) groups.set(ttl, (group = []));
      group.push(point.slice(0, 3));
    }
    for (const [ttl, datapoints] of groups) {
      let bodies = byTtl.get(ttl);
      if (!bodies) byTtl.set(ttl, (bodies = []));
      // A point without a numeric TTL of its own keeps the metric's.
      bodies.push(ttl < 0 ? { ...metric, datapoints } : { ...metric, ttl, datapoints });
    }
  }
  return [...(plain.length > 0 ? [plain] : []), ...byTtl.values()];
}

function hasPointTtls(metric: unknown): metric is { datapoints: unknown[][] } {
  const points = (metric as { datapoints?: unknown } | null)?.datapoints;
  return Array.isArray(points) && points.some((p) => Array.isArray(p) && p.length > 3);
}

/** The lines of a byte stream (UTF-8, `\n` or `\r\n`), each at most `maxBytes` long, with the bytes each took. */
async function* lines(input: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<{ line: string; bytes: number }> {
  let parts: Buffer[] = [];
  let held = 0;
  let number = 0;
  for await (const chunk of input) {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let at = data.indexOf(10); at !== -1; at = data.indexOf(10)) {
      if (held + at > maxBytes) throw new ImportError(number + 1, `longer than ${maxBytes} bytes (maxLineBytes)`);
      parts.push(data.subarray(0, at));
      const line = Buffer.concat(parts).toString('utf8');
      yield { line: line.endsWith('\r') ? line.slice(0, -1) : line, bytes: held + at + 1 };
      number++;
      parts = [];
      held = 0;
      data = data.subarray(at + 1);
    }
    held += data.length;
    if (held > maxBytes) throw new ImportError(number + 1, `longer than ${maxBytes} bytes (maxLineBytes)`);
    if (data.length > 0) parts.push(data);
  }
  if (held > 0) yield { line: Buffer.concat(parts).toString('utf8'), bytes: held };
}
