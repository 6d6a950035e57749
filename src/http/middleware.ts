import { optionError } from '../option-keys.js';
import type { Context, Middleware, Next } from 'koa';
import { httpError } from '../errors.js';
import { OPT_IN_GROUPS, resolveOptions, ROUTE_GROUPS, type KairosdbOptions, type ResolvedOptions, type RouteGroup } from '../options.js';
import { tenantOf } from './access.js';
import { Admission, type WorkKind } from './admission.js';
import { refuseCrossSite } from './cross-site.js';
import { claimPaths } from './mount-claims.js';
import { RouteTable } from './route-table.js';
import { respondWithError } from './respond.js';
import { deleteRoutes } from './routes/delete.js';
import { healthRoutes } from './routes/health.js';
import { ingestRoutes } from './routes/ingest.js';
import { metadataApiRoutes } from './routes/metadata-api.js';
import { metadataRoutes } from './routes/metadata.js';
import { queryRoutes } from './routes/query.js';
import { uiRoutes } from './routes/ui.js';
import { metricsRoutes } from './routes/metrics.js';
import { adminRoutes } from './routes/admin.js';
import { rollupRoutes } from './routes/rollups.js';
import { RollupRunner } from '../rollups/runner.js';
import { RollupTasks } from '../rollups/tasks.js';
import type { Coordination, MetadataStore } from '../store-api/contract.js';
import { RunningQueries } from '../query/running.js';
import { influxRoutes } from './routes/influx.js';
import { openTsdbRoutes } from './routes/opentsdb.js';
import { prometheusRoutes } from './routes/prometheus.js';
import { SelfMetrics } from '../metrics/self-metrics.js';
import { startStatistics } from '../metrics/statistics.js';
import type { Server } from 'node:net';
import type { LineListenerOptions } from '../protocols/lines.js';
import { Listeners, type GraphiteListenerOptions } from '../protocols/listeners.js';
import type { Handler, RequestState, Routes } from './routes/route.js';

/** The middleware, with its store's start and end. */
export type KairosdbMiddleware = Middleware & {
  /** Resolves once the store answers (Cassandra: connected, schema checked), else rejects with the reason. */
  ready(): Promise<void>;
  /**
   * Closes the store (after writes in flight), for a graceful shutdown; the store of the `cassandra` option has no other
   * handle. Streamed query answers still being sent get up to `graceMs` to finish, then their connections are cut.
   */
  close(options?: { graceMs?: number }): Promise<void>;
  /**
   * Listens for KairosDB's telnet protocol (`put`, `putm`, `puts`, `version`; collectd's write_tsdb, tcollector) on a
   * TCP port (4242, loopback, by default); resolves with the server once it listens. Closed by `close()`, or by the host.
   */
  listenTelnet(options?: LineListenerOptions): Promise<Server>;
  /** Listens for Graphite's plaintext protocol (collectd's write_graphite, carbon relays) on a TCP port (2003, loopback, by default). */
  listenGraphite(options?: GraphiteListenerOptions): Promise<Server>;
  /** The mount's own metrics in Prometheus' text format (what `routes: { metrics: true }` serves at GET /metrics), for a host that serves them elsewhere. */
  metrics(): Promise<string>;
};

/** What a mount's route groups share: its self-metrics, the queries it is running and its roll-up tasks (when on). */
interface Shared {
  metrics: SelfMetrics;
  running: RunningQueries;
  rollups: RollupTasks | undefined;
}

const GROUPS: Record<RouteGroup, (options: ResolvedOptions, shared: Shared) => Routes> = {
  ingest: ingestRoutes,
  query: (options, { running }) => queryRoutes(options, running),
  delete: deleteRoutes,
  metadata: metadataRoutes,
  metadataApi: metadataApiRoutes,
  health: healthRoutes,
  ui: uiRoutes,
  metrics: (options, { metrics }) => metricsRoutes(options, metrics),
  influx: influxRoutes,
  opentsdb: openTsdbRoutes,
  prometheus: prometheusRoutes,
  admin: (options, { running, rollups }) => adminRoutes(options, running, rollups),
};

/**
 * Loads Node's fetch classes now, while the host starts: Koa compares every answer that is not text or bytes (a JSON
 * object, a stream) with `Blob`, `ReadableStream` and `Response`, and the first use of `Response` loads Node's fetch
 * implementation — ~30 ms of the event loop inside a process's first query otherwise.
 */
function loadFetchClasses(): void {
  void globalThis.Response;
}

/**
 * Mounts KairosDB's REST API on a Koa application.
 * @example
 * import Koa from 'koa';
 * import { kairosdb, MemoryStore } from 'koa-kairosdb';
 * const app = new Koa();
 * app.use(kairosdb({ store: new MemoryStore() }));
 * app.listen(8080);
 */
export function kairosdb(options: KairosdbOptions): KairosdbMiddleware {
  if (isKoaContext(options, arguments[1])) {
    throw optionError('kairosdb was given to app.use() without being called: write app.use(kairosdb({ store })), not app.use(kairosdb)');
  }
  const resolved = resolveOptions(options);
  loadFetchClasses();
  const admission = new Admission({
    writes: resolved.maxInFlightRequests,
    queries: resolved.maxInFlightQueries,
    bytes: resolved.maxInFlightBytes,
    perClient: resolved.maxRequestsPerClient,
  });
  const metrics = new SelfMetrics({ store: resolved.store, inFlight: () => admission.inFlight });
  const tasks = resolved.rollups && new RollupTasks(resolved.store.metadata as MetadataStore);
  const shared: Shared = { metrics, running: new RunningQueries(), rollups: tasks };
  const routes: Routes = {};
  for (const group of ROUTE_GROUPS) {
    const on = OPT_IN_GROUPS.includes(group) ? resolved.routes[group] === true : resolved.routes[group] !== false;
    if (on) Object.assign(routes, GROUPS[group](resolved, shared));
  }
  if (resolved.rollups && tasks) Object.assign(routes, rollupRoutes(resolved, tasks, resolved.rollups.maxTasks));
  const runner = resolved.rollups?.run && tasks ? new RollupRunner(resolved, resolved.rollups, tasks, resolved.store.coordination as Coordination) : undefined;
  runner?.start();
  const table = new RouteTable(resolved.prefix, routes);
  const listeners = new Listeners(resolved, metrics);
  const stopStatistics = resolved.statistics && startStatistics(metrics, resolved.store, resolved.statistics, resolved.clock, resolved.logger);
  const limits = { wire: resolved.maxBodyBytes, decompressed: resolved.maxDecompressedBytes };
  const rate = { minBytesPerSecond: resolved.minBodyBytesPerSecond, graceMs: resolved.bodyRateGraceMs };
  const ingestPath = `${resolved.prefix}/datapoints`;
  const allowedOrigins = new Set(resolved.allowedOrigins);
  const healthPaths = new Set(Object.keys(healthRoutes(resolved)).map((path) => resolved.prefix + path));

  const openAnswers = new Set<() => void>();
  const mount = Symbol('kairosdb mount');
  const apps = new WeakSet<object>();
  const middleware = async function kairosdbMiddleware(ctx: Context, next: Next) {
    if (!apps.has(ctx.app)) {
      apps.add(ctx.app);
      warnIfShadowed(ctx);
    }
    const match = table.match(ctx.path);
    if (!match) return next();
    const { methods: route, param } = match;
    const started = performance.now();
    const reading = { limits, namesPerBody: resolved.maxNamesPerBody, rate, timeoutMs: resolved.bodyTimeoutMs, admission, ticket: { bytes: 0 }, received: { bytes: 0 } };
    let request: RequestState | undefined;
    let admitted: WorkKind | undefined;
    const client = resolved.maxRequestsPerClient > 0 && !healthPaths.has(ctx.path) ? ctx.ip : undefined;
    let counted = false;
    let code: string | undefined;
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (!match.declared.startsWith('/ui')) ctx.set('Cache-Control', 'no-store');
    try {
      const handler: Handler | undefined = route[ctx.method];
      if (!handler) {
        ctx.set('Allow', Object.keys(route).join(', '));
        throw httpError('METHOD_NOT_ALLOWED', ctx.method, ctx.path);
      }
      refuseCrossSite(ctx, match.declared, allowedOrigins);
      if (client !== undefined) {
        admission.enterClient(client);
        counted = true;
      }
      const admit = (kind: WorkKind) => {
        if (admitted) return;
        admission.enter(kind);
        admitted = kind;
      };
      const cutOff = (reason: string) => metrics.cut.inc([reason]);
      request = { param: decodeParam(param), get params() { return param.split('/').map(decodeParam); }, tenant: tenantOf(resolved, ctx), reading, admit, openAnswers, datapoints: 0, storeMs: 0, storeCalls: [], cutOff };
      await handler(ctx, request);
    } catch (error) {
      code = respondWithError(ctx, error, resolved.logger, ctx.method === 'POST' && ctx.path === ingestPath);
    } finally {
      const free = () => {
        admission.release(reading.ticket);
        if (admitted) admission.leave(admitted);
        if (counted) admission.leaveClient(client as string);
      };
      if (request && request.storeCalls.length > 0) void Promise.allSettled(request.storeCalls).then(free);
      else free();
      report(ctx, match.declared, request, reading.received.bytes, started, code, admitted);
    }
  };

  const ready = async () => {
    const { store } = resolved;
    await (store.init ? store.init() : store.ping());
  };
  const close = async ({ graceMs = 5000 }: { graceMs?: number } = {}) => {
    stopStatistics?.();
    await runner?.stop();
    await listeners.close();
    const until = performance.now() + graceMs;
    while (openAnswers.size > 0 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const cut of [...openAnswers]) cut();
    await resolved.store.close();
  };
  return Object.assign(middleware, {
    ready,
    close,
    metrics: () => metrics.prometheus(),
    listenTelnet: (options?: LineListenerOptions) => listeners.telnet(options),
    listenGraphite: (options?: GraphiteListenerOptions) => listeners.graphite(options),
  });

  function warnIfShadowed(ctx: Context): void {
    const shadowed = claimPaths(ctx, mount, table.paths());
    if (shadowed.length === 0) return;
    const message = `koa-kairosdb: another kairosdb() mount of this app already answers ${shadowed.join(', ')}; this one is never reached there — give the mounts different prefixes (options.prefix)`;
    resolved.logger.warn({ paths: shadowed }, message);
    process.emitWarning(message, 'KairosdbMountWarning');
  }

  function report(ctx: Context, route: string, request: RequestState | undefined, bytesIn: number, started: number, code: string | undefined, kind: WorkKind | undefined): void {
    const event = {
      method: ctx.method,
      route,
      status: ctx.status,
      bytesIn,
      datapoints: request?.datapoints ?? 0,
      storeMs: request?.storeMs ?? 0,
      durationMs: performance.now() - started,
    };
    metrics.record({ ...event, code, kind });
    if (!resolved.onRequest) return;
    try {
      resolved.onRequest(event);
    } catch (error) {
      resolved.logger.warn({ err: error }, 'koa-kairosdb: onRequest threw');
    }
  }
}

function decodeParam(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    throw httpError('INVALID_PATH', param);
  }
}

/** Whether Koa called the factory as a middleware: (ctx, next) instead of (options). */
function isKoaContext(options: unknown, next: unknown): boolean {
  return typeof next === 'function' && typeof options === 'object' && options !== null && 'app' in options && 'request' in options && 'response' in options;
}
