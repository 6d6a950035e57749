import type { Context } from 'koa';
import { KairosHttpError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { renderQueryFailure } from '../query/messages.js';
import { parseQuery } from '../query/parse.js';
import type { QuerySpec } from '../query/spec.js';
import { authorize, restrictTags } from './access.js';
import type { RequestState } from './routes/route.js';

/** Parses a query or delete body (400 with the messages of an invalid one), restricts it to the tenant and authorizes it. */
export async function parseQueryRequest(options: ResolvedOptions, ctx: Context, request: RequestState, body: unknown, action: 'read' | 'delete'): Promise<QuerySpec> {
  const parsed = parseQuery(body, options.clock(), options);
  if (!parsed.ok) throw new KairosHttpError('INVALID_BODY', parsed.errors.map(renderQueryFailure));
  const spec = parsed.spec;
  for (const metric of spec.metrics) metric.tags = restrictTags(metric.tags, options.tenantTag, request.tenant);
  await authorize(options, ctx, { action, metrics: spec.metrics.map((m) => m.name) });
  return spec;
}
