import type { Context } from 'koa';
import { httpError } from '../../errors.js';
import { createIngest } from '../../ingest/ingest.js';
import type { ResolvedOptions } from '../../options.js';
import { ProtobufError } from '../../protocols/protobuf.js';
import { remoteWriteMetrics } from '../../protocols/remote-write.js';
import { snappyDecoder } from '../../protocols/snappy.js';
import { readBody } from '../read-body.js';
import { respondNoContent } from '../respond.js';
import { influxRoutes } from './influx.js';
import { storePoints } from './protocol-write.js';
import type { Handler, RequestState, Routes } from './route.js';

/**
 * Prometheus remote write (version 1) at POST /write: a snappy-compressed protobuf `WriteRequest`, all or nothing (a
 * series the ingest refuses answers 400, which Prometheus does not retry; a store failure 503, which it does). The
 * path is Influx v1's too: a request that is not protobuf goes to Influx when `routes.influx` is on.
 */
export function prometheusRoutes(options: ResolvedOptions): Routes {
  const ingest = createIngest(options);
  const snappy = snappyDecoder();
  const influx = options.routes.influx === true ? influxRoutes(options)['/write']?.POST : undefined;
  const write: Handler = async (ctx: Context, request: RequestState) => {
    if (!ctx.request.is('application/x-protobuf')) {
      if (influx) return influx(ctx, request);
      throw httpError('UNSUPPORTED_MEDIA', 'application/x-protobuf (Prometheus remote write, snappy-compressed)');
    }
    const body = await readBody(ctx.req, { ...request.reading, snappy });
    let decoded;
    try {
      decoded = remoteWriteMetrics(body);
    } catch (error) {
      if (error instanceof ProtobufError) throw httpError('INVALID_PROTOBUF', error.message);
      throw error;
    }
    if (decoded.skipped > 0) options.logger.debug({ skipped: decoded.skipped }, 'koa-kairosdb: remote write samples left out (NaN, Inf, histograms, exemplars)');
    await storePoints(ctx, request, options, ingest, { metrics: decoded.metrics, origins: decoded.origins }, 'prometheus', (series, message) => httpError('INVALID_BODY', `time series ${series}: ${message}`));
    respondNoContent(ctx);
  };
  return { '/write': { POST: write } };
}
