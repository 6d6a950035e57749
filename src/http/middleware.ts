import type { Context, Middleware, Next } from 'koa';
import { httpError, KairosHttpError } from '../errors.js';
import { createIngest } from '../ingest/ingest.js';
import { parseJson } from '../ingest/parse-json.js';
import { resolveOptions, type KairosdbOptions, type ResolvedOptions } from '../options.js';
import { readBody } from './read-body.js';
import { respondNoContent, respondWithError } from './respond.js';

type Handler = (ctx: Context) => Promise<void>;
type Routes = Map<string, Partial<Record<string, Handler>>>;

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
  const routes: Routes = new Map([[`${resolved.prefix}/datapoints`, { POST: addDatapoints(resolved) }]]);
  return async function kairosdbMiddleware(ctx: Context, next: Next) {
    const route = routes.get(ctx.path);
    if (!route) return next();
    try {
      const handler = route[ctx.method];
      if (!handler) {
        ctx.set('Allow', Object.keys(route).join(', '));
        throw httpError('METHOD_NOT_ALLOWED', ctx.method, ctx.path);
      }
      await handler(ctx);
    } catch (error) {
      respondWithError(ctx, error, resolved.logger);
    }
  };
}

function addDatapoints(options: ResolvedOptions): Handler {
  const ingest = createIngest(options);
  const limits = { wire: options.maxBodyBytes, decompressed: options.maxDecompressedBytes };
  return async (ctx) => {
    const body = await requestBody(ctx, limits);
    const result = ingest(body);
    if (!result.ok) throw new KairosHttpError('INVALID_BODY', result.errors);
    if (result.series.length > 0) await options.store.write(result.series);
    respondNoContent(ctx);
  };
}

/** The parsed JSON body: the host's, if it already parsed it, else read from the request. */
async function requestBody(ctx: Context, limits: { wire: number; decompressed: number }): Promise<unknown> {
  const hostParsed = (ctx.request as { body?: unknown }).body;
  if (hostParsed !== undefined && ctx.req.readableEnded) {
    if (typeof hostParsed !== 'string' && !Buffer.isBuffer(hostParsed)) return hostParsed;
    return json(hostParsed);
  }
  return json(await readBody(ctx.req, limits));
}

function json(body: Buffer | string): unknown {
  const parsed = parseJson(body);
  if (!parsed.ok) throw httpError('INVALID_JSON', parsed.message);
  return parsed.value;
}
