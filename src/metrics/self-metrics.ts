import type { Store } from '../store-api/contract.js';
import { Counter, exposition, Histogram, type MetricInfo, type Sample } from './registry.js';

/** Upper bounds of the duration histograms, seconds. */
const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const info = (name: string, storeName: string, help: string, labelNames: readonly string[] = []): MetricInfo => ({ name: `koa_kairosdb_${name}`, storeName, help, labelNames });

/** How a streamed answer ended early: its deadline, a client reading too slowly, the mount closing, or an error's code. */
export type CutReason = 'deadline' | 'slow_reader' | 'closing' | string;

/** What one answered request did (the middleware's `onRequest` event and the answer's error code). */
export interface AnsweredRequest {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly bytesIn: number;
  readonly datapoints: number;
  readonly storeMs: number;
  readonly durationMs: number;
  /** The error's stable code (`OVERLOADED`, `QUERY_TIMEOUT`, …) when the answer is an error. */
  readonly code: string | undefined;
  /** The work the request was admitted for: `write` (ingest in any protocol, deletes), `query` (reads). */
  readonly kind: 'write' | 'query' | undefined;
}

/** Figures read when metrics are collected, apart from the counters. */
export interface Gauges {
  /** Requests holding a slot, by kind of work. */
  inFlight(): Readonly<Record<'write' | 'query', number>>;
  readonly store: Store;
}

/** A gauge's samples as collected. */
export interface GaugeSamples {
  readonly info: MetricInfo;
  readonly samples: readonly Sample[];
}

/**
 * One mount's own metrics: requests, points, store latency, errors by code (admission refusals, limits, timeouts) and
 * answers cut off, counted as requests end; in-flight requests and the store's `figures()` read when collected.
 */
export class SelfMetrics {
  readonly requests = new Counter(info('http_requests_total', 'http.request_count', 'Requests answered, by route, method and status.', ['route', 'method', 'status']));
  readonly received = new Counter(info('http_received_bytes_total', 'http.received_bytes', 'Request body bytes received, by route.', ['route']));
  readonly ingested = new Counter(info('ingested_datapoints_total', 'http.ingest_count', 'Data points written, in any protocol (KairosDB JSON, Influx, OpenTSDB, Prometheus, the line listeners).'));
  readonly queried = new Counter(info('queried_datapoints_total', 'datastore.query_sample_size', 'Data points read by queries.'));
  readonly errors = new Counter(info('errors_total', 'http.error_count', 'Error answers by their code (OVERLOADED, QUERY_TIMEOUT, INVALID_BODY, …).', ['code']));
  readonly lines = new Counter(info('protocol_lines_total', 'protocol.line_count', 'Lines received by the TCP line protocols (telnet, Graphite), by protocol and outcome (stored, invalid, too_long, failed, refused_connection).', ['protocol', 'outcome']));
  readonly cut = new Counter(info('answers_cut_total', 'http.answers_cut', 'Streamed answers cut off after they started, by reason.', ['reason']));
  readonly duration = new Histogram(info('http_request_duration_seconds', 'http.request_time', 'Time to answer a request (a streamed answer: until it starts), by route.', ['route']), SECONDS);
  readonly storeWrite = new Histogram(info('store_write_duration_seconds', 'datastore.write_time', 'Time a write waited for the store.'), SECONDS);
  readonly storeRead = new Histogram(info('store_read_duration_seconds', 'datastore.query_time', 'Time a query read from the store.'), SECONDS);
  readonly #inFlight = info('in_flight_requests', 'http.in_flight', 'Requests holding a slot, by kind of work.', ['kind']);

  constructor(readonly gauges: Gauges) {}

  /** Counts one answered request. */
  record(r: AnsweredRequest): void {
    this.requests.inc([r.route, r.method, String(r.status)]);
    if (r.bytesIn > 0) this.received.inc([r.route], r.bytesIn);
    this.duration.observe([r.route], r.durationMs / 1000);
    if (r.code !== undefined) this.errors.inc([r.code]);
    if (r.kind === 'write' && r.datapoints > 0) {
      this.ingested.inc([], r.datapoints);
      this.storeWrite.observe([], r.storeMs / 1000);
    } else if (r.kind === 'query' && r.storeMs > 0) {
      // The reads that time the store: queries, their tags, remote read (name and metadata listings do not).
      this.queried.inc([], r.datapoints);
      this.storeRead.observe([], r.storeMs / 1000);
    }
  }

  counters(): Counter[] {
    return [this.requests, this.received, this.ingested, this.queried, this.errors, this.cut, this.lines];
  }

  histograms(): Histogram[] {
    return [this.duration, this.storeWrite, this.storeRead];
  }

  /** The gauges now: requests in flight and the store's figures (none when the store has no `figures()` or it fails). */
  async collectGauges(): Promise<GaugeSamples[]> {
    const inFlight = this.gauges.inFlight();
    const gauges: GaugeSamples[] = [{ info: this.#inFlight, samples: [{ labels: ['write'], value: inFlight.write }, { labels: ['query'], value: inFlight.query }] }];
    const figures = await this.gauges.store.figures?.().catch(() => undefined);
    for (const [name, value] of Object.entries(figures ?? {})) {
      if (!/^[a-z][a-z0-9_]*$/.test(name) || !Number.isFinite(value)) continue;
      gauges.push({ info: info(`store_${name}`, `store.${name}`, `The store's own figure '${name}' (see the store's documentation).`), samples: [{ labels: [], value }] });
    }
    return gauges;
  }

  /** Everything in Prometheus' text format. */
  async prometheus(): Promise<string> {
    return exposition(this.counters(), this.histograms(), await this.collectGauges());
  }
}
