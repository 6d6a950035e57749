import type { Context } from 'koa';
import { httpError } from '../../errors.js';
import type { ResolvedOptions } from '../../options.js';
import { isUnavailable } from '../../store-api/unavailable.js';
import { authorize } from '../access.js';
import { respondNoContent } from '../respond.js';
import { withTimeout } from '../timeout.js';
import type { RequestState, Routes } from './route.js';

/** GET /health/check (204 or 503) and GET /health/status. */
export function healthRoutes(options: ResolvedOptions): Routes {
  /** Whether the store answers; when not, sets Retry-After from the store's own estimate (1 s by default). */
  const answers = async (ctx: Context, request: RequestState) => {
    if (!options.publicHealth) await authorize(options, ctx, { action: 'info', route: ctx.path.slice(options.prefix.length) });
    try {
      await withTimeout(options.store.ping(), options.storeTimeoutMs, request.storeCalls);
      return true;
    } catch (error) {
      options.logger.warn({ err: error }, 'koa-kairosdb: health check failed');
      ctx.set('Retry-After', String(Math.max(1, Math.ceil((isUnavailable(error) ? error.retryAfter : undefined) ?? 1))));
      return false;
    }
  };
  return {
    '/health/check': {
      GET: async (ctx, request) => {
        if (await answers(ctx, request)) return respondNoContent(ctx);
        const { status, errors } = httpError('STORE_NOT_ANSWERING');
        ctx.status = status;
        ctx.body = { errors };
      },
    },
    '/health/status': {
      GET: async (ctx, request) => {
        const ok = await answers(ctx, request);
        ctx.status = ok ? 200 : 503;
        ctx.body = [`Datastore-Query: ${ok ? 'OK' : 'FAIL'}`];
      },
    },
  };
}
