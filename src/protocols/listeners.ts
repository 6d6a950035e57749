import type { Server } from 'node:net';
import { stampTenant } from '../http/access.js';
import { takeNewSeries } from '../http/new-series-rate.js';
import { withTimeout } from '../http/timeout.js';
import { createIngest } from '../ingest/ingest.js';
import type { SelfMetrics } from '../metrics/self-metrics.js';
import { optionError } from '../option-keys.js';
import type { ResolvedOptions } from '../options.js';
import { graphiteLine, hostTagMapping, type GraphiteMapping } from './graphite.js';
import { listenLines, type LineListenerOptions, type LineSink } from './lines.js';
import { telnetLine } from './telnet.js';

/** Options of `listenGraphite`: a line listener's, and how a path becomes a metric and tags. */
export interface GraphiteListenerOptions extends LineListenerOptions {
  /** Turns a Graphite path into a metric name and tags (undefined drops the line). @default KairosDB's carbon plugin's (the second part of the path is `host`) */
  mapping?: GraphiteMapping;
}

/** The line listeners of one mount, closed with it. */
export class Listeners {
  readonly #servers = new Set<Server>();

  constructor(
    readonly options: ResolvedOptions,
    readonly metrics: SelfMetrics,
  ) {}

  telnet(options: LineListenerOptions = {}): Promise<Server> {
    return this.#listen('telnet', telnetLine, options, 4242);
  }

  graphite(options: GraphiteListenerOptions = {}): Promise<Server> {
    const mapping = options.mapping ?? hostTagMapping;
    if (typeof mapping !== 'function') throw optionError('listenGraphite(options): options.mapping must be a function');
    return this.#listen('graphite', (words) => graphiteLine(words, mapping), options, 2003);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#servers].map((server) => new Promise((resolve) => server.close(resolve))));
  }

  async #listen(protocol: string, parse: Parameters<typeof listenLines>[1], options: LineListenerOptions, port: number): Promise<Server> {
    const { tenant } = options;
    if (this.options.tenant && (typeof tenant !== 'string' || tenant === '')) {
      throw optionError(`listen ${protocol}: this mount is tenant-bound; give the listener the tenant its points belong to (options.tenant)`);
    }
    const server = await listenLines(protocol, parse, options, port, this.#sink(protocol, tenant));
    this.#servers.add(server);
    server.once('close', () => this.#servers.delete(server));
    return server;
  }

  #sink(protocol: string, tenant: string | undefined): LineSink {
    const { options, metrics } = this;
    const ingest = createIngest(options);
    return {
      logger: options.logger,
      maxNames: options.maxNamesPerBody,
      count: (outcome, n) => {
        metrics.lines.inc([protocol, outcome], n);
        if (outcome === 'stored') metrics.ingested.inc([], n);
      },
      write: async (series) => {
        await takeNewSeries(options, tenant, series, []);
        await withTimeout(options.store.write(series), options.storeTimeoutMs, []);
      },
      async seriesOf(lines) {
        const valid: Record<string, unknown>[] = [];
        let reason: string | undefined;
        for (const line of lines) {
          try {
            const stamped = tenant === undefined ? line : (stampTenant(line, options.tenantTag, tenant) as Record<string, unknown>);
            valid.push(stamped);
          } catch (error) {
            reason ??= (error as Error).message;
          }
        }
        const whole = ingest(valid);
        if (whole.ok) return { series: whole.series, refused: lines.length - valid.length, ...(reason !== undefined && { reason }) };
        // Some line is invalid: each is checked alone, and the valid ones are stored together.
        const kept: Record<string, unknown>[] = [];
        for (const line of valid) {
          const alone = ingest([line]);
          if (alone.ok) kept.push(line);
          else reason ??= (await alone.explain())[0];
        }
        const again = ingest(kept);
        return { series: again.ok ? again.series : [], refused: lines.length - kept.length, ...(reason !== undefined && { reason }) };
      },
    };
  }
}
