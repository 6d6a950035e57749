import type { Context } from 'koa';
import { httpError } from '../../errors.js';
import { createIngest } from '../../ingest/ingest.js';
import type { ResolvedOptions } from '../../options.js';
import { ProtobufError } from '../../protocols/protobuf.js';
import { readRequest, readResponse } from '../../protocols/remote-read.js';
import { remoteWriteMetrics, TooManyLabelNames } from '../../protocols/remote-write.js';
import { regexCompiler } from '../../protocols/regex.js';
import { snappyCodec } from '../../protocols/snappy.js';
import { QueryBudget } from '../../query/budget.js';
import { authorize } from '../access.js';
import { readQuery } from './prometheus-read.js';
import { readBody } from '../read-body.js';
import { respondNoContent } from '../respond.js';
import { influxRoutes } from './influx.js';
import { storePoints } from './protocol-write.js';
import type { Handler, RequestState, Routes } from './route.js';

/**
 * Prometheus remote write (version 1) at POST /write: a snappy-compressed protobuf `WriteRequest`, all or nothing (a
 * series the ingest refuses answers 400, which Prometheus does not retry; a store failure 503, which it does). The
 * path is Influx v1's too: a request that is not protobuf goes to Influx when `routes.influx` is on. Remote read at
 * POST /read (SAMPLES responses): each query's matchers read from the store within the query limits.
 */
export function prometheusRoutes(options: ResolvedOptions): Routes {
  const ingest = createIngest(options);
  const { decode: snappy, encode } = snappyCodec();
  const compile = regexCompiler();
  const influx = options.routes.influx === true ? influxRoutes(options)['/write']?.POST : undefined;
  const write: Handler = async (ctx: Context, request: RequestState) => {
    if (!ctx.request.is('application/x-protobuf')) {
      if (influx) return influx(ctx, request);
      throw httpError('UNSUPPORTED_MEDIA', 'application/x-protobuf (Prometheus remote write, snappy-compressed)');
    }
    const decoded = protobuf((bytes) => remoteWriteMetrics(bytes, options.maxNamesPerBody), await readBody(ctx.req, { ...request.reading, snappy }));
    if (decoded.skipped > 0) options.logger.debug({ skipped: decoded.skipped }, 'koa-kairosdb: remote write samples left out (NaN, Inf, histograms, exemplars)');
    await storePoints(ctx, request, options, ingest, { metrics: decoded.metrics, origins: decoded.origins }, 'prometheus', (series, message) => httpError('INVALID_BODY', `time series ${series}: ${message}`));
    respondNoContent(ctx);
  };
  const read: Handler = async (ctx: Context, request: RequestState) => {
    if (!ctx.request.is('application/x-protobuf')) throw httpError('UNSUPPORTED_MEDIA', 'application/x-protobuf (Prometheus remote read, snappy-compressed)');
    const small = Math.min(request.reading.limits.wire, options.maxQueryBodyBytes);
    const decoded = protobuf(readRequest, await readBody(ctx.req, { ...request.reading, limits: { wire: small, decompressed: options.maxQueryBodyBytes }, snappy }));
    if (decoded.responseTypes.length > 0 && !decoded.responseTypes.includes(0)) throw httpError('QUERY_LIMIT', 'only SAMPLES responses are answered (accepted_response_types)');
    if (decoded.queries.length > options.maxQueryMetrics) throw httpError('QUERY_LIMIT', `at most ${options.maxQueryMetrics} queries in one read (maxQueryMetrics)`);
    const names = decoded.queries.flatMap((q) => q.matchers.filter((m) => m.name === '__name__' && m.type === 0).map((m) => m.value));
    await authorize(options, ctx, { action: 'read', metrics: names });
    request.admit('query');
    const budget = new QueryBudget({ maxPoints: options.maxQueryPoints, maxOutputPoints: options.maxQueryOutputPoints, maxGroups: options.maxQueryGroups, maxResponseBytes: options.maxQueryResponseBytes, timeoutMs: options.queryTimeoutMs });
    const started = performance.now();
    const results = [];
    for (const query of decoded.queries) results.push(await readQuery(query, options, request.tenant, budget, compile));
    request.storeMs = performance.now() - started;
    request.datapoints += budget.points;
    const answer = await readResponse(results, () => budget.pace());
    budget.written(answer.length);
    ctx.set('Content-Encoding', 'snappy');
    ctx.type = 'application/x-protobuf';
    ctx.body = encode(answer);
  };
  return { '/write': { POST: write }, '/read': { POST: read } };
}

/** A body decoded as a protobuf message; one that is not answers 400 saying where it went wrong. */
function protobuf<T>(decode: (bytes: Uint8Array) => T, body: Buffer): T {
  try {
    return decode(body);
  } catch (error) {
    if (error instanceof ProtobufError) throw httpError('INVALID_PROTOBUF', error.message);
    if (error instanceof TooManyLabelNames) throw httpError('INVALID_BODY', error.message);
    throw error;
  }
}
