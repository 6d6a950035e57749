import type { Context } from 'koa';
import { KairosHttpError } from '../../errors.js';
import type { ResolvedOptions } from '../../options.js';
import { runQuery } from '../../query/execute.js';
import { parseQuery } from '../../query/parse.js';
import type { QuerySpec } from '../../query/spec.js';
import { json, requestBody } from '../body.js';
import type { Routes } from './route.js';
import { tagsOf } from '../../query/execute.js';
import type { SeriesRead } from '../../store/contract.js';

/** POST and GET /datapoints/query, POST /datapoints/query/tags. */
export function queryRoutes(options: ResolvedOptions): Routes {
  const limits = { wire: options.maxBodyBytes, decompressed: options.maxDecompressedBytes };
  const context = (now: number) => ({ store: options.store, types: options.types, maxPoints: options.maxQueryPoints, now });
  const run = async (ctx: Context, body: unknown) => {
    const now = options.clock();
    ctx.body = await runQuery(parse(body, now), context(now));
  };
  return {
    '/datapoints/query': {
      POST: async (ctx) => run(ctx, await requestBody(ctx, limits)),
      GET: async (ctx) => run(ctx, json(typeof ctx.query.query === 'string' ? ctx.query.query : '')),
    },
    '/datapoints/query/tags': {
      POST: async (ctx) => {
        const spec = parse(await requestBody(ctx, limits), options.clock());
        const queries = [];
        for (const metric of spec.metrics) {
          const series: SeriesRead[] = [];
          for await (const s of options.store.read({ metric: metric.name, start: spec.start, end: spec.end, tags: metric.tags })) series.push(s);
          queries.push({ results: [{ name: metric.name, tags: tagsOf(series), values: [] }] });
        }
        ctx.body = { queries };
      },
    },
  };
}

/** Parses a query body, answering 400 with the messages of an invalid one. */
export function parse(body: unknown, now: number): QuerySpec {
  const parsed = parseQuery(body, now);
  if (!parsed.ok) throw new KairosHttpError('INVALID_BODY', parsed.errors);
  return parsed.spec;
}
