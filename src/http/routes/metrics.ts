import type { SelfMetrics } from '../../metrics/self-metrics.js';
import type { ResolvedOptions } from '../../options.js';
import { authorize } from '../access.js';
import type { Routes } from './route.js';

/** GET /metrics: the mount's own metrics in Prometheus' text format (behind `authorize`, as other informational routes). */
export function metricsRoutes(options: ResolvedOptions, metrics: SelfMetrics): Routes {
  return {
    '/metrics': {
      GET: async (ctx) => {
        await authorize(options, ctx, { action: 'info', route: '/metrics' });
        ctx.type = 'text/plain; version=0.0.4; charset=utf-8';
        ctx.body = await metrics.prometheus();
      },
    },
  };
}
