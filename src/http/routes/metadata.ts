import { httpError } from '../../errors.js';
import type { ResolvedOptions } from '../../options.js';
import { FEATURES } from '../../query/features.js';
import { VERSION } from '../../version.js';
import { authorize } from '../access.js';
import { sendList } from '../stream-answer.js';
import { withTimeout } from '../timeout.js';
import type { Routes } from './route.js';

/** GET /metricnames, GET /features[/{name}] (the aggregators and groupers, as KairosDB describes them) and GET /version. */
export function metadataRoutes(options: ResolvedOptions): Routes {
  return {
    '/metricnames': {
      GET: async (ctx, request) => {
        await authorize(options, ctx, { action: 'list' });
        request.admit('query');
        const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
        const list = async () => {
          const { tenant } = request;
          if (tenant !== undefined && options.store.metricNamesWithTag) return options.store.metricNamesWithTag(prefix, options.tenantTag, tenant);
          const names = await options.store.metricNames(prefix);
          if (tenant === undefined) return names;
          const own: string[] = [];
          for (const metric of names) {
            for await (const _ of options.store.read({ metric, tags: { [options.tenantTag]: [tenant] } })) {
              own.push(metric);
              break;
            }
          }
          return own;
        };
        const names = await withTimeout(list(), options.storeTimeoutMs, request.storeCalls);
        await sendList(ctx, request, names, options);
      },
    },
    '/features': {
      GET: async (ctx) => {
        await authorize(options, ctx, { action: 'info', route: '/features' });
        ctx.body = FEATURES;
      },
    },
    '/features/{name}': {
      GET: async (ctx, request) => {
        await authorize(options, ctx, { action: 'info', route: '/features/{name}' });
        const feature = FEATURES.find((f) => f.name === request.param);
        if (!feature) throw httpError('UNKNOWN_FEATURE', request.param.slice(0, 100));
        // The feature's processors as a bare array, as KairosDB's FeaturesResource.getFeature serializes them.
        ctx.body = feature.properties;
      },
    },
    '/version': {
      GET: async (ctx) => {
        await authorize(options, ctx, { action: 'info', route: '/version' });
        ctx.body = { version: `koa-kairosdb ${VERSION}` };
      },
    },
  };
}
