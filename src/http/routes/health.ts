import type { ResolvedOptions } from '../../options.js';
import { respondNoContent } from '../respond.js';
import type { Routes } from './route.js';

/** GET /health/check (204 or 503) and GET /health/status. */
export function healthRoutes(options: ResolvedOptions): Routes {
  const answers = async () => {
    try {
      await options.store.ping();
      return true;
    } catch (error) {
      options.logger.warn({ err: error }, 'koa-kairosdb: health check failed');
      return false;
    }
  };
  return {
    '/health/check': {
      GET: async (ctx) => {
        if (await answers()) return respondNoContent(ctx);
        ctx.status = 503;
        ctx.body = { errors: ['The store does not answer'] };
      },
    },
    '/health/status': {
      GET: async (ctx) => {
        const ok = await answers();
        ctx.status = ok ? 200 : 503;
        ctx.body = [`Datastore-Query: ${ok ? 'OK' : 'FAIL'}`];
      },
    },
  };
}
