import type { Context } from 'koa';
import { KairosHttpError } from '../../errors.js';
import type { Ingest, IngestResult } from '../../ingest/ingest.js';
import type { ResolvedOptions } from '../../options.js';
import type { SeriesWrite } from '../../store-api/contract.js';
import { authorize, stampTenant } from '../access.js';
import { takeNewSeries } from '../new-series-rate.js';
import { withTimeout } from '../timeout.js';
import { LONG_NORMALISE_MS, Stretch, turn } from '../turns.js';
import type { RequestState } from './route.js';

/** A protocol's points as metrics of a KairosDB body, each with the line (or entry) it came from. */
export interface ProtocolPoints {
  readonly metrics: Record<string, unknown>[];
  /** For each metric, the number of the line or entry it came from, for messages. */
  readonly origins: readonly number[];
}

/**
 * Stores a protocol's points through the mount's ingest, all or nothing: validated first (a point that is not valid
 * throws `invalid(origin, message)` for the first one), then written as {@link writeSeries} writes.
 */
export async function storePoints(
  ctx: Context,
  request: RequestState,
  options: ResolvedOptions,
  ingest: Ingest,
  points: ProtocolPoints,
  protocol: string,
  invalid: (origin: number, message: string) => KairosHttpError,
): Promise<void> {
  request.admit('write');
  const body = request.tenant === undefined ? points.metrics : (stampTenant(points.metrics, options.tenantTag, request.tenant) as unknown[]);
  const normalising = performance.now();
  const result = await ingest.inTurns(body, new Stretch(normalising).pause);
  const turnFirst = performance.now() - normalising > LONG_NORMALISE_MS;
  if (!result.ok) {
    await authorize(options, ctx, { action: 'write', series: [], protocol });
    for (let i = 0; i < body.length; i++) {
      const why = await refusal(ingest, body[i]);
      if (why !== undefined) throw invalid(points.origins[i] as number, why.replace(/^metric\[0\]/, 'point'));
    }
    throw invalid(0, (await result.explain())[0] ?? 'invalid');
  }
  await writeSeries(ctx, request, options, result.series, { protocol, turnFirst });
}

/** Why the ingest refuses one metric alone (its first message), or undefined when it takes it. */
export async function refusal(ingest: (body: unknown) => IngestResult, metric: unknown): Promise<string | undefined> {
  const alone = ingest([metric]);
  return alone.ok ? undefined : ((await alone.explain())[0] ?? 'invalid');
}

/**
 * Writes valid series as every ingest route does: `authorize` (naming the protocol, when not KairosDB's JSON), the
 * mount's new-series budget, a turn of the event loop first when normalising was long, then the store within
 * `storeTimeoutMs`; counts the points for `onRequest` and the metrics.
 */
export async function writeSeries(
  ctx: Context,
  request: RequestState,
  options: ResolvedOptions,
  series: readonly SeriesWrite[],
  { protocol, turnFirst }: { protocol?: string; turnFirst: boolean },
): Promise<void> {
  await authorize(options, ctx, protocol === undefined ? { action: 'write', series } : { action: 'write', series, protocol });
  await takeNewSeries(options, request.tenant, series, request.storeCalls);
  if (turnFirst) await turn();
  if (series.length === 0) return;
  let datapoints = 0;
  for (const s of series) datapoints += s.timestamps.length;
  const started = performance.now();
  await withTimeout(options.store.write(series), options.storeTimeoutMs, request.storeCalls);
  request.storeMs = performance.now() - started;
  request.datapoints += datapoints;
}
