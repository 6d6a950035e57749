import type { ResolvedOptions } from '../../options.js';
import { httpError } from '../../errors.js';
import type { RunningQueries } from '../../query/running.js';
import { authorize } from '../access.js';
import type { RollupTasks } from '../../rollups/tasks.js';
import { withTimeout } from '../timeout.js';
import type { Routes } from './route.js';

/**
 * KairosDB's admin API (`routes: { admin: true }`, behind `authorize` with `{ action: 'admin' }`): the running queries,
 * killing one by hash, and the scheduled jobs.
 */
export function adminRoutes(options: ResolvedOptions, running: RunningQueries, rollups: RollupTasks | undefined): Routes {
  return {
    '/admin/runningqueries': {
      GET: async (ctx) => {
        await authorize(options, ctx, { action: 'admin', operation: 'list' });
        // KairosDB's field names, spaces included; no query waits here (a query over the limit is refused, 503).
        ctx.body = { queries: running.list().map((q) => ({ 'query hash': q.hash, 'metric name': q.metric, 'query JSON': q.json })), 'queries waiting': 0 };
      },
    },
    '/admin/killquery/{hash}': {
      GET: async (ctx, request) => {
        const hash = request.param;
        await authorize(options, ctx, { action: 'admin', operation: 'kill', hash });
        if (running.kill(hash) === 0) throw httpError('UNKNOWN_QUERY', hash);
        options.logger.info({ hash }, 'koa-kairosdb: query killed by hash');
        ctx.status = 204;
      },
    },
    '/admin/scheduledjobs': {
      GET: async (ctx, request) => {
        await authorize(options, ctx, { action: 'admin', operation: 'jobs' });
        // The scheduled jobs are the roll-up tasks (KairosDB's Quartz jobs are keyed by task id): none without `rollups`.
        ctx.body = rollups ? (await withTimeout(rollups.of(request.tenant), options.storeTimeoutMs, request.storeCalls)).map((task) => task.id) : [];
      },
    },
  };
}
