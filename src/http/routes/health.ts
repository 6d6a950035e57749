import type { ResolvedOptions } from '../../options.js';
import { respondNoContent } from '../respond.js';
import { withTimeout } from '../timeout.js';
import type { RequestState, Routes } from './route.js';

/** GET /health/check (204 or 503) and GET /health/status. */
export function healthRoutes(options: ResolvedOptions): Routes {
  const answers = async (request: RequestState) => {
    try {
      await withTimeout(options.store.ping(), options.writeTimeoutMs, request.storeCalls);
      return true;
    } catch (error) {
      options.logger.warn({ err: error }, 'koa-kairosdb: health check failed');
      return false;
    }
  };
  return {
    '/health/check': {
      GET: async (ctx, request) => {
        if (await answers(request)) return respondNoContent(ctx);
        ctx.status = 503;
        ctx.body = { errors: ['The store does not answer'] };
      },
    },
    '/health/status': {
      GET: async (ctx, request) => {
        const ok = await answers(request);
        ctx.status = ok ? 200 : 503;
        ctx.body = [`Datastore-Query: ${ok ? 'OK' : 'FAIL'}`];
      },
    },
  };
}
