import type { ResolvedOptions } from '../../options.js';
import { VERSION } from '../../version.js';
import type { Routes } from './route.js';

/** GET /metricnames and GET /version. */
export function metadataRoutes(options: ResolvedOptions): Routes {
  return {
    '/metricnames': {
      GET: async (ctx) => {
        const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
        ctx.body = { results: await options.store.metricNames(prefix) };
      },
    },
    '/version': {
      GET: async (ctx) => {
        ctx.body = { version: `koa-kairosdb ${VERSION}` };
      },
    },
  };
}
