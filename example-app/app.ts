import Koa from 'koa';
import { kairosdb, TypeRegistry, type KairosdbMiddleware, type Logger, type Store } from '../src/index.js';
import { geoPoint } from './geo-point.js';

/**
 * The example application: its own routes, the middleware under /api/v1 (with the explorer and GET /api/v1/metrics),
 * one custom value type; with `statisticsIntervalMs`, the mount's statistics written into the store. The mount is
 * `app.context.kairosdb`, for its line listeners.
 */
export function createApp(store: Store, storeName: string, logger: Logger, statisticsIntervalMs?: number): Koa & { kairosdb: KairosdbMiddleware } {
  const types = new TypeRegistry();
  types.register(geoPoint);
  const app = new Koa();
  app.use(async (ctx, next) => {
    const started = performance.now();
    await next();
    logger.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms: performance.now() - started }, 'request');
  });
  const statistics = statisticsIntervalMs === undefined ? false : { intervalMs: statisticsIntervalMs };
  const mount = kairosdb({ store, types, logger, routes: { ui: true, metrics: true, influx: true, opentsdb: true, prometheus: true }, statistics, rollups: true });
  app.use(mount);
  app.use(async (ctx, next) => {
    if (ctx.method !== 'GET') return next();
    if (ctx.path === '/healthz') {
      await store.ping();
      ctx.body = { status: 'ok', store: storeName };
    } else if (ctx.path === '/') {
      const { metrics, all } = await seriesPerMetric(store);
      // The totals read every point: only for a small store (the page refreshes every 5 s).
      const small = all && metrics.every(([, count]) => count !== undefined) && metrics.reduce((n, [, count]) => n + (count ?? 0), 0) <= COUNTED;
      const stats = small ? await store.stats?.() : undefined;
      if (small) await countTagSets(store, metrics);
      ctx.type = 'html';
      ctx.body = landingPage(storeName, stats && { series: metrics.reduce((n, [, count]) => n + (count ?? 0), 0), points: stats.points }, metrics, small);
    } else {
      await next();
    }
  });
  return Object.assign(app, { kairosdb: mount });
}

/** Series counted per metric, at most: more shows as "10,000+". */
const COUNTED = 10_000;

/** The first 50 metric names with their number of series, counted from the store's index (never by reading points). */
async function seriesPerMetric(store: Store): Promise<{ metrics: [string, number | undefined][]; all: boolean }> {
  const names = await store.metricNames();
  const metrics: [string, number | undefined][] = [];
  for (const metric of names.slice(0, 50)) {
    // A store without an index count is not read to count (that would read points).
    metrics.push([metric, store.countSeries ? await store.countSeries({ metric }, COUNTED + 1) : undefined]);
  }
  return { metrics, all: names.length <= 50 };
}

/**
 * A small store's counts made what a query shows: one series per tag set. Stores count a long and a double series of
 * one tag set as two (their values are kept apart), and an expired series until its metric is deleted.
 */
async function countTagSets(store: Store, metrics: [string, number | undefined][]): Promise<void> {
  for (const entry of metrics) {
    const tagSets = new Set<string>();
    for await (const series of store.read({ metric: entry[0] })) tagSets.add(JSON.stringify(series.tags));
    entry[1] = tagSets.size;
  }
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A link into the explorer showing a metric over all time. */
function explore(metric: string): string {
  const q = JSON.stringify({ metric, range: 'abs', start: 0, end: Date.now() + 86_400_000, tags: {}, aggregator: null, groupBy: '' });
  return `/api/v1/ui/?q=${encodeURIComponent(q)}`;
}

function landingPage(store: string, stats: { series: number; points: number } | undefined, metrics: [string, number | undefined][], small: boolean): string {
  const count = (n: number | undefined) => (n === undefined ? '' : ` — ${n > COUNTED ? `${COUNTED.toLocaleString('en')}+` : String(n)} series`);
  const list = metrics.length === 0
    ? '<p>No metrics yet: push the example body (see the README quick start).</p>'
    : `<ul>${metrics.map(([m, n]) => `<li><a href="${escape(explore(m))}">${escape(m)}</a>${count(n)}</li>`).join('')}</ul>`;
  const counts = stats
    ? `Stored now: <strong>${stats.series}</strong> series, <strong>${stats.points}</strong> points (refreshes every 5 s).`
    : small ? 'This store does not report counts.' : `Totals are shown for stores of up to ${COUNTED.toLocaleString('en')} series (counting points reads them all).`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>koa-kairosdb example</title>
<meta http-equiv="refresh" content="5"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 2em auto">
<h1>koa-kairosdb example server</h1>
<p>KairosDB's REST API is mounted at <code>/api/v1</code>, stored in <strong>${store}</strong>.
<a href="/api/v1/ui/">Open the explorer</a> to chart what is stored.</p>
<ul>
  <li><code>POST /api/v1/datapoints</code> — add data points (JSON or gzip)</li>
  <li><code>POST /api/v1/datapoints/query</code>, <code>/datapoints/query/tags</code>, <code>GET /api/v1/metricnames</code> — read them back (KairosDB's query format; Grafana works)</li>
  <li><code>POST /api/v1/datapoints/delete</code>, <code>DELETE /api/v1/metric/{name}</code>, <code>GET /api/v1/version</code>, <code>/api/v1/health/check</code></li>
  <li><code>GET /healthz</code> — this application's own health route</li>
</ul>
<p>${counts}</p>
<h2>Metrics</h2>
${list}
<p>Custom value type registered by this app: <code>geo-point</code> <code>{"lat": -90…90, "lon": -180…180}</code>.</p>
</body></html>
`;
}
