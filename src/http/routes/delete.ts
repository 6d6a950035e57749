import type { ResolvedOptions } from '../../options.js';
import { authorize, restrictTags } from '../access.js';
import { queryBody } from '../body.js';
import { parseQueryRequest } from '../query-request.js';
import { respondNoContent } from '../respond.js';
import { withTimeout } from '../timeout.js';
import type { Routes } from './route.js';

/** POST /datapoints/delete and DELETE /metric/{name} . */
export function deleteRoutes(options: ResolvedOptions): Routes {
  return {
    '/datapoints/delete': {
      POST: async (ctx, request) => {
        const spec = await parseQueryRequest(options, ctx, request, await queryBody(ctx, request.reading, options), 'delete');
        request.admit('write');
        for (const metric of spec.metrics) {
          await withTimeout(options.store.delete({ metric: metric.name, start: spec.start, end: spec.end, tags: metric.tags }), options.storeTimeoutMs, request.storeCalls);
        }
        respondNoContent(ctx);
      },
    },
    '/metric/{name}': {
      DELETE: async (ctx, request) => {
        const metric = request.param;
        await authorize(options, ctx, { action: 'delete', metrics: [metric] });
        request.admit('write');
        const query = request.tenant === undefined ? { metric } : { metric, tags: restrictTags({}, options.tenantTag, request.tenant) };
        await withTimeout(options.store.delete(query), options.storeTimeoutMs, request.storeCalls);
        respondNoContent(ctx);
      },
    },
  };
}
