import type { Context } from 'koa';
import { httpError, KairosHttpError } from '../../errors.js';
import { createIngest } from '../../ingest/ingest.js';
import type { ResolvedOptions } from '../../options.js';
import { isUtf8 } from 'node:buffer';
import { InfluxReader, isPrecision, SeriesTexts } from '../../protocols/influx.js';
import { hostText } from '../body.js';
import { readLines } from '../read-body.js';
import { respondNoContent } from '../respond.js';
import { storePoints } from './protocol-write.js';
import type { RequestState, Routes } from './route.js';

/** Influx's error codes by status (v2's `{ code, message }`). */
const CODES: Record<number, string> = { 400: 'invalid', 401: 'unauthorized', 403: 'forbidden', 408: 'request timeout', 413: 'request too large', 429: 'too many requests', 503: 'unavailable' };

/**
 * Influx line protocol: POST /write (v1: `precision` n, u, ms, s, m, h) and POST /api/v2/write (v2: ns, us, ms, s).
 * The body is read as it arrives, a piece of lines at a time. All or nothing: a line that cannot be read or stored
 * answers 400 naming it (at once: the rest of the body is not read), and nothing of the body is written.
 * Errors answer in Influx's shape (v1 `{ error }`, v2 `{ code, message }`).
 */
export function influxRoutes(options: ResolvedOptions): Routes {
  const ingest = createIngest(options);
  const known = new SeriesTexts();
  const write = (v2: boolean) => async (ctx: Context, request: RequestState) => {
    try {
      const precision = typeof ctx.query.precision === 'string' ? ctx.query.precision : 'ns';
      if (!isPrecision(precision)) throw httpError('PRECISION', precision);
      const reader = new InfluxReader(precision, options.clock(), options.maxTagsPerSeries, known, options.maxNamesPerBody);
      const read = async (piece: Buffer, last: boolean) => {
        if (!isUtf8(piece)) throw httpError('NOT_UTF8');
        const failed = await reader.read(piece, last);
        if (failed) throw httpError('LINE_PROTOCOL', failed.line, failed.message);
      };
      const host = hostText(ctx);
      if (host === undefined) await readLines(ctx.req, request.reading, read);
      else await read(typeof host === 'string' ? Buffer.from(host, 'utf8') : host, true);
      const parsed = reader.parsed();
      await storePoints(ctx, request, options, ingest, { metrics: parsed.metrics, origins: parsed.lines }, 'influx', (line, message) => httpError('LINE_PROTOCOL', line, message));
      respondNoContent(ctx);
    } catch (error) {
      if (!(error instanceof KairosHttpError)) throw error;
      const message = error.errors.join('; ');
      // The same error in Influx's shape, its Retry-After (a 429's) kept.
      const shaped = new KairosHttpError(error.code, error.errors, v2 ? { code: CODES[error.status] ?? 'internal error', message } : { error: message });
      throw Object.assign(shaped, { retryAfter: (error as { retryAfter?: number }).retryAfter });
    }
  };
  return {
    '/write': { POST: write(false) },
    '/api/v2/write': { POST: write(true) },
  };
}
