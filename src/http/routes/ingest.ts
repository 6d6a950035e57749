import { KairosHttpError } from '../../errors.js';
import { createIngest } from '../../ingest/ingest.js';
import type { ResolvedOptions } from '../../options.js';
import { authorize, stampTenant } from '../access.js';
import { ingestBody } from '../body.js';
import { respondNoContent } from '../respond.js';
import { LARGE_BODY, LONG_NORMALISE_MS, Stretch, turn } from '../turns.js';
import { writeSeries } from './protocol-write.js';
import type { Routes } from './route.js';

/** POST /datapoints. */
export function ingestRoutes(options: ResolvedOptions): Routes {
  const ingest = createIngest(options);
  return {
    '/datapoints': {
      POST: async (ctx, request) => {
        const read = await ingestBody(ctx, request.reading);
        const large = request.reading.ticket.bytes > LARGE_BODY;
        if (large) await turn();
        request.admit('write');
        const stamped = (body: unknown, owned: boolean) => (request.tenant === undefined ? body : stampTenant(body, options.tenantTag, request.tenant, owned));
        const normalising = performance.now();
        // Counted from here: a body that normalises within the stretch (known series, most bodies) takes no turn.
        const stretch = new Stretch(normalising);
        let result = await ingest.inTurns(stamped(read.body, read.owned), stretch.pause);
        if (!result.ok) {
          // Integers beyond ±(2^53−1) that JSON.parse rounded: the body read again with them exact (body.ts).
          const exact = await read.exact();
          if (exact !== undefined) result = await ingest.inTurns(stamped(exact, true), stretch.pause);
        }
        const longNormalise = performance.now() - normalising > LONG_NORMALISE_MS;
        if (!result.ok) {
          // A caller the hook refuses gets 403 before the body is explained, so it cannot spend the mount's CPU.
          await authorize(options, ctx, { action: 'write', series: [] });
          throw new KairosHttpError('INVALID_BODY', await result.explain());
        }
        await writeSeries(ctx, request, options, result.series, { turnFirst: large || longNormalise });
        respondNoContent(ctx);
      },
    },
  };
}
