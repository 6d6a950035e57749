import { KairosHttpError } from '../../errors.js';
import { createIngest } from '../../ingest/ingest.js';
import type { ResolvedOptions } from '../../options.js';
import { requestBody } from '../body.js';
import { respondNoContent } from '../respond.js';
import type { Routes } from './route.js';

/** POST /datapoints. */
export function ingestRoutes(options: ResolvedOptions): Routes {
  const ingest = createIngest(options);
  const limits = { wire: options.maxBodyBytes, decompressed: options.maxDecompressedBytes };
  return {
    '/datapoints': {
      POST: async (ctx) => {
        const result = ingest(await requestBody(ctx, limits));
        if (!result.ok) throw new KairosHttpError('INVALID_BODY', result.errors);
        if (result.series.length > 0) await options.store.write(result.series);
        respondNoContent(ctx);
      },
    },
  };
}
