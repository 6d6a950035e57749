import type { Context } from 'koa';
import { KairosHttpError } from '../../errors.js';
import type { IngestResult } from '../../ingest/ingest.js';
import type { ResolvedOptions } from '../../options.js';
import { authorize, stampTenant } from '../access.js';
import { takeNewSeries } from '../new-series-rate.js';
import { withTimeout } from '../timeout.js';
import { LONG_NORMALISE_MS, turn } from '../turns.js';
import type { RequestState } from './route.js';

/** A protocol's points as metrics of a KairosDB body, each with the line (or entry) it came from. */
export interface ProtocolPoints {
  readonly metrics: Record<string, unknown>[];
  /** For each metric, the number of the line or entry it came from, for messages. */
  readonly origins: readonly number[];
}

/**
 * Stores a protocol's points through the mount's ingest, all or nothing: validated first (a point that is not valid
 * throws `invalid(origin, message)` for the first one), authorized as a write naming the protocol, then written.
 * Returns how many points were stored.
 */
export async function storePoints(
  ctx: Context,
  request: RequestState,
  options: ResolvedOptions,
  ingest: (body: unknown) => IngestResult,
  points: ProtocolPoints,
  protocol: string,
  invalid: (origin: number, message: string) => KairosHttpError,
): Promise<number> {
  request.admit('write');
  const body = request.tenant === undefined ? points.metrics : (stampTenant(points.metrics, options.tenantTag, request.tenant) as unknown[]);
  const normalising = performance.now();
  const result = ingest(body);
  const longNormalise = performance.now() - normalising > LONG_NORMALISE_MS;
  if (!result.ok) {
    await authorize(options, ctx, { action: 'write', series: [], protocol });
    for (let i = 0; i < body.length; i++) {
      const alone = ingest([body[i]]);
      if (!alone.ok) throw invalid(points.origins[i] as number, ((await alone.explain())[0] ?? 'invalid').replace(/^metric\[0\]/, 'point'));
    }
    throw invalid(0, (await result.explain())[0] ?? 'invalid');
  }
  await authorize(options, ctx, { action: 'write', series: result.series, protocol });
  await takeNewSeries(options, request.tenant, result.series, request.storeCalls);
  let stored = 0;
  for (const s of result.series) stored += s.timestamps.length;
  // As KairosDB JSON's ingest: a turn between a long normalising (new series) and the store's first slice.
  if (longNormalise) await turn();
  if (stored > 0) {
    const started = performance.now();
    await withTimeout(options.store.write(result.series), options.storeTimeoutMs, request.storeCalls);
    request.storeMs = performance.now() - started;
    request.datapoints += stored;
  }
  return stored;
}
