import type { Context } from 'koa';
import { httpError, KairosHttpError } from '../../errors.js';
import { createIngest } from '../../ingest/ingest.js';
import type { ResolvedOptions } from '../../options.js';
import { openTsdbPoint } from '../../protocols/opentsdb.js';
import { openTsdbBytes, TagTexts, TOO_MANY_NAMES, type OpenTsdbBody } from '../../protocols/opentsdb-bytes.js';
import { stampTenant } from '../access.js';
import { json, jsonBytes } from '../body.js';
import { respondNoContent } from '../respond.js';
import { LONG_NORMALISE_MS, turn } from '../turns.js';
import { refusal, writeSeries } from './protocol-write.js';
import type { RequestState, Routes } from './route.js';

/**
 * OpenTSDB's POST /api/put: each data point stored on its own, as OpenTSDB does (a bad one does not stop the others);
 * 204 when all are stored, else 400 — with `?summary` `{success, failed}`, with `?details` also `errors`, else
 * OpenTSDB's error object. A body that is not JSON stores nothing.
 */
export function openTsdbRoutes(options: ResolvedOptions): Routes {
  const ingest = createIngest(options);
  const known = new TagTexts();
  const put = async (ctx: Context, request: RequestState) => {
    let body: unknown;
    let common: { bytes: Buffer; points: OpenTsdbBody } | undefined;
    try {
      const read = await jsonBytes(ctx, request.reading);
      const { namesPerBody } = request.reading;
      const points = 'bytes' in read ? await openTsdbBytes(read.bytes, known, namesPerBody) : undefined;
      if (points === TOO_MANY_NAMES) throw httpError('TOO_MANY_NAMES', namesPerBody);
      if (points) common = { bytes: (read as { bytes: Buffer }).bytes, points };
      else body = 'bytes' in read ? json(read.bytes, Infinity, namesPerBody) : read.body;
    } catch (error) {
      if (error instanceof KairosHttpError) throw new KairosHttpError(error.code, error.errors, openTsdbError(error.status, error.errors.join('; ')));
      throw error;
    }
    request.admit('write');
    if (common) {
      if (await stored(ctx, request, common.points)) return;
      // JSON already (the bytes reader takes only JSON): read point by point, to say which the ingest refuses.
      await turn();
      body = json(common.bytes);
    }
    const points = Array.isArray(body) ? body : [body];
    const errors: { datapoint: unknown; error: string }[] = [];
    let valid: Record<string, unknown>[] = [];
    const metrics: [unknown, Record<string, unknown>][] = [];
    for (const point of points) {
      const metric = openTsdbPoint(point);
      if (typeof metric === 'string') errors.push({ datapoint: point, error: metric });
      else metrics.push([point, request.tenant === undefined ? metric : (stampTenant(metric, options.tenantTag, request.tenant) as Record<string, unknown>)]);
    }
    // All at once; only when that fails, each point alone to find the ones the ingest refuses.
    const normalising = performance.now();
    let result = ingest(metrics.map(([, metric]) => metric));
    const turnFirst = performance.now() - normalising > LONG_NORMALISE_MS;
    if (result.ok) valid = metrics.map(([, metric]) => metric);
    else {
      for (const [point, metric] of metrics) {
        const why = await refusal(ingest, metric);
        if (why === undefined) valid.push(metric);
        else errors.push({ datapoint: point, error: why.replace(/^metric\[0\](\(name=[^)]*\))?\.?/, '') });
      }
      result = ingest(valid);
    }
    if (!result.ok) throw new Error('koa-kairosdb: points valid one by one were refused together');
    await writeSeries(ctx, request, options, result.series, { protocol: 'opentsdb', turnFirst });
    answer(ctx, valid.length, errors);
  };
  /**
   * A common body read from its bytes (opentsdb-bytes.ts), all of it valid: stored, and answered; false when the
   * ingest refuses any of it (the route then reads it point by point, to say which).
   */
  const stored = async (ctx: Context, request: RequestState, body: OpenTsdbBody): Promise<boolean> => {
    const metrics = request.tenant === undefined ? body.metrics : (stampTenant(body.metrics, options.tenantTag, request.tenant) as Record<string, unknown>[]);
    const normalising = performance.now();
    const result = ingest(metrics);
    if (!result.ok) return false;
    await writeSeries(ctx, request, options, result.series, { protocol: 'opentsdb', turnFirst: performance.now() - normalising > LONG_NORMALISE_MS });
    answer(ctx, body.points, []);
    return true;
  };
  const answer = (ctx: Context, success: number, errors: { datapoint: unknown; error: string }[]) => {
    const details = ctx.query.details !== undefined;
    const summary = details || ctx.query.summary !== undefined;
    const counts = { success, failed: errors.length };
    if (summary) {
      ctx.status = errors.length > 0 ? 400 : 200;
      ctx.body = details ? { ...counts, errors: errors.slice(0, options.maxErrors) } : counts;
    } else if (errors.length > 0) {
      ctx.status = 400;
      ctx.body = openTsdbError(400, 'One or more data points had errors', 'Please see the TSD logs or append "details" to the put request');
      options.logger.debug({ errors: errors.slice(0, 10) }, 'koa-kairosdb: OpenTSDB put refused data points');
    } else {
      respondNoContent(ctx);
    }
  };
  return { '/api/put': { POST: put } };
}

/** OpenTSDB's error body. */
function openTsdbError(code: number, message: string, details?: string): unknown {
  return { error: { code, message, ...(details !== undefined && { details }) } };
}

