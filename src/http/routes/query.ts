import type { Context } from 'koa';
import { KairosHttpError } from '../../errors.js';
import type { ResolvedOptions } from '../../options.js';
import { runQuery, tagsOf } from '../../query/execute.js';
import { parseQuery } from '../../query/parse.js';
import type { QuerySpec } from '../../query/spec.js';
import type { SeriesRead } from '../../store/contract.js';
import { authorize, restrictTags } from '../access.js';
import { json, requestBody } from '../body.js';
import { withTimeout } from '../timeout.js';
import type { RequestState, Routes } from './route.js';

/** POST and GET /datapoints/query, POST /datapoints/query/tags. */
export function queryRoutes(options: ResolvedOptions): Routes {
  const run = async (ctx: Context, request: RequestState, body: unknown) => {
    const now = options.clock();
    const spec = await parseFor(options, ctx, request, body, 'read');
    const context = { store: options.store, types: options.types, maxPoints: options.maxQueryPoints, now };
    const started = performance.now();
    const answer = await withTimeout(runQuery(spec, context), options.writeTimeoutMs, request.storeCalls);
    request.storeMs = performance.now() - started;
    request.datapoints = answer.queries.reduce((n, q) => n + q.sample_size, 0);
    ctx.body = answer;
  };
  return {
    '/datapoints/query': {
      POST: async (ctx, request) => run(ctx, request, await requestBody(ctx, request.reading)),
      GET: async (ctx, request) => run(ctx, request, json(typeof ctx.query.query === 'string' ? ctx.query.query : '')),
    },
    '/datapoints/query/tags': {
      POST: async (ctx, request) => {
        const spec = await parseFor(options, ctx, request, await requestBody(ctx, request.reading), 'read');
        const tagsOfMetrics = async () => {
          const queries = [];
          for (const metric of spec.metrics) {
            const series: SeriesRead[] = [];
            for await (const s of options.store.read({ metric: metric.name, start: spec.start, end: spec.end, tags: metric.tags })) series.push(s);
            queries.push({ results: [{ name: metric.name, tags: tagsOf(series), values: [] }] });
          }
          return { queries };
        };
        ctx.body = await withTimeout(tagsOfMetrics(), options.writeTimeoutMs, request.storeCalls);
      },
    },
  };
}

/** Parses a query body (400 with the messages of an invalid one), restricts it to the tenant and authorizes it. */
export async function parseFor(options: ResolvedOptions, ctx: Context, request: RequestState, body: unknown, action: 'read' | 'delete'): Promise<QuerySpec> {
  const parsed = parseQuery(body, options.clock());
  if (!parsed.ok) throw new KairosHttpError('INVALID_BODY', parsed.errors);
  const spec = parsed.spec;
  for (const metric of spec.metrics) metric.tags = restrictTags(metric.tags, options.tenantTag, request.tenant);
  await authorize(options, ctx, { action, metrics: spec.metrics.map((m) => m.name) });
  return spec;
}
