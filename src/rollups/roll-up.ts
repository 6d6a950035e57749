/**
 * One period of one query metric of a roll-up, as KairosDB's RollupProcessor runs it: the query for the period with a
 * `save_as` stage appended (the roll-up's metric, the query's grouped tags kept), written like an ingest body. The
 * period's end is exclusive here (KairosDB queries it inclusively and trims the extra range off its answer, yet saves
 * it), so that each period saves exactly its own ranges.
 */
import type { IngestResult } from '../ingest/ingest.js';
import type { ResolvedOptions } from '../options.js';
import { budgetOf } from '../query/budget.js';
import { queryEvents } from '../query/execute.js';
import { renderQueryFailure } from '../query/messages.js';
import { parseQuery } from '../query/parse.js';
import { SavedPoints } from '../query/save-as.js';
import { restrictTags, stampTenant } from '../http/access.js';
import { withTimeout } from '../http/timeout.js';
import type { Rollup } from './task.js';

/** Rolls up `[start, end)` of the roll-up's query metric `m`; resolves with the points saved. */
export async function rollUpPeriod(
  options: ResolvedOptions,
  ingest: (body: unknown) => IngestResult,
  rollup: Rollup,
  m: number,
  [start, end]: readonly [number, number],
  tenant: string | undefined,
): Promise<number> {
  const { start_relative: _s, end_relative: _e, metrics, ...query } = rollup.query;
  const metric = (metrics as Record<string, unknown>[])[m] as Record<string, unknown>;
  const aggregators = [...((metric.aggregators as unknown[] | undefined) ?? []), { name: 'save_as', metric_name: rollup.saveAs }];
  const body = { ...query, start_absolute: start, end_absolute: end - 1, metrics: [{ ...metric, aggregators }] };
  const parsed = parseQuery(body, options.clock(), options);
  if (!parsed.ok) throw new Error(`the roll-up's query is not valid: ${parsed.errors.map(renderQueryFailure).join('; ')}`);
  const { spec } = parsed;
  for (const q of spec.metrics) q.tags = restrictTags(q.tags, options.tenantTag, tenant);
  const budget = budgetOf(options);
  const saved = new SavedPoints(budget);
  for await (const _event of queryEvents(spec, { store: options.store, types: options.types, now: options.clock(), budget, saved }));
  const points = saved.metrics();
  if (points.length === 0) return 0;
  const result = ingest(tenant === undefined ? points : stampTenant(points, options.tenantTag, tenant));
  if (!result.ok) throw new Error(`the rolled-up points are not valid: ${(await result.explain()).join('; ')}`);
  await withTimeout(options.store.write(result.series), options.storeTimeoutMs, []);
  return result.series.reduce((n, s) => n + s.timestamps.length, 0);
}
