import type { CassandraClient, Row } from '../src/cassandra.js';

/** A statement the fake client received, batched or alone. */
export interface Received {
  query: string;
  params: unknown[];
  batch: number | undefined;
  options: Record<string, unknown>;
}

/** A cassandra-driver stand-in that records every statement and answers schema_meta as a current schema. */
export class FakeClient implements CassandraClient {
  received: Received[] = [];
  batches = 0;
  shutdowns = 0;
  bucketWidthMs = 86_400_000;
  /** Throws this error for statements it matches, once per match unless `always`. */
  fail: { when: (query: string, size: number) => boolean; error: Error; always?: boolean } | undefined;

  async execute(query: string, params: unknown[] = [], options: object = {}): Promise<{ rows: Row[] }> {
    this.#maybeFail(query, 1);
    this.received.push({ query, params, batch: undefined, options: options as Record<string, unknown> });
    if (query.startsWith('SELECT name, value FROM')) {
      return { rows: [{ name: 'bucket_width_ms', value: String(this.bucketWidthMs) }, { name: 'layout_version', value: '3' }] };
    }
    return { rows: [] };
  }

  async batch(queries: { query: string; params: unknown[] }[], options: object = {}): Promise<unknown> {
    // A batch fails as a whole when any of its statements would.
    for (const q of queries) this.#maybeFail(q.query, queries.length);
    const id = ++this.batches;
    for (const q of queries) this.received.push({ ...q, batch: id, options: options as Record<string, unknown> });
    return {};
  }

  async shutdown(): Promise<void> {
    this.shutdowns++;
  }

  /** Data statements received (INSERT INTO …chunks: a series' points in a bucket, one compressed cell). */
  points(): Received[] {
    return this.received.filter((r) => r.query.includes('.chunks ('));
  }

  /** Index statements received (series, metric_buckets, metric_names). */
  index(): Received[] {
    return this.received.filter((r) => /INSERT INTO \w+\.(series|metric_buckets|metric_names) /.test(r.query));
  }

  #maybeFail(query: string, size: number): void {
    if (this.fail?.when(query, size)) {
      const { error, always } = this.fail;
      if (!always) this.fail = undefined;
      throw error;
    }
  }
}

/** An error shaped like the driver's (`name`, `code`, `message`). */
export function driverError(name: string, message: string, code?: number): Error {
  return Object.assign(new Error(message), { name, ...(code === undefined ? {} : { code }) });
}
