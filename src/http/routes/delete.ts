import type { ResolvedOptions } from '../../options.js';
import { requestBody } from '../body.js';
import { respondNoContent } from '../respond.js';
import { parse } from './query.js';
import type { Routes } from './route.js';

/** POST /datapoints/delete and DELETE /metric/{name} (matched by prefix in the middleware). */
export function deleteRoutes(options: ResolvedOptions): Routes {
  const limits = { wire: options.maxBodyBytes, decompressed: options.maxDecompressedBytes };
  return {
    '/datapoints/delete': {
      POST: async (ctx) => {
        const spec = parse(await requestBody(ctx, limits), options.clock());
        for (const metric of spec.metrics) {
          await options.store.delete({ metric: metric.name, start: spec.start, end: spec.end, tags: metric.tags });
        }
        respondNoContent(ctx);
      },
    },
    '/metric/': {
      DELETE: async (ctx, metric) => {
        await options.store.delete({ metric });
        respondNoContent(ctx);
      },
    },
  };
}
