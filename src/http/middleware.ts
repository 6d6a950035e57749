import type { Context, Middleware, Next } from 'koa';
import { httpError } from '../errors.js';
import { resolveOptions, type KairosdbOptions } from '../options.js';
import { respondWithError } from './respond.js';
import { deleteRoutes } from './routes/delete.js';
import { healthRoutes } from './routes/health.js';
import { ingestRoutes } from './routes/ingest.js';
import { metadataRoutes } from './routes/metadata.js';
import { queryRoutes } from './routes/query.js';
import type { Handler, Routes } from './routes/route.js';

const GROUPS = { ingest: ingestRoutes, query: queryRoutes, delete: deleteRoutes, metadata: metadataRoutes, health: healthRoutes };

/**
 * Mounts KairosDB's REST API on a Koa application.
 * @example
 * import Koa from 'koa';
 * import { kairosdb, MemoryStore } from 'koa-kairosdb';
 * const app = new Koa();
 * app.use(kairosdb({ store: new MemoryStore() }));
 * app.listen(8080);
 */
export function kairosdb(options: KairosdbOptions): Middleware {
  const resolved = resolveOptions(options);
  const routes: Routes = {};
  for (const [group, build] of Object.entries(GROUPS)) {
    if (resolved.routes[group as keyof typeof GROUPS] !== false) Object.assign(routes, build(resolved));
  }
  const byPath = new Map(Object.entries(routes).map(([path, methods]) => [resolved.prefix + path, methods]));
  const metricPrefix = `${resolved.prefix}/metric/`;
  const metricRoute = byPath.get(metricPrefix);
  byPath.delete(metricPrefix);

  return async function kairosdbMiddleware(ctx: Context, next: Next) {
    let route = byPath.get(ctx.path);
    let param = '';
    if (!route && metricRoute && ctx.path.startsWith(metricPrefix) && ctx.path.length > metricPrefix.length) {
      route = metricRoute;
      param = ctx.path.slice(metricPrefix.length);
    }
    if (!route) return next();
    try {
      const handler: Handler | undefined = route[ctx.method];
      if (!handler) {
        ctx.set('Allow', Object.keys(route).join(', '));
        throw httpError('METHOD_NOT_ALLOWED', ctx.method, ctx.path);
      }
      await handler(ctx, decodeParam(param));
    } catch (error) {
      respondWithError(ctx, error, resolved.logger);
    }
  };
}

function decodeParam(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    throw httpError('INVALID_BODY', `Invalid URL encoding in '${param}'`);
  }
}
