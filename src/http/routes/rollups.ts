import { randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import { httpError, KairosHttpError } from '../../errors.js';
import type { ResolvedOptions } from '../../options.js';
import { parseTask, type RollupTask } from '../../rollups/task.js';
import type { RollupTasks } from '../../rollups/tasks.js';
import { authorize } from '../access.js';
import { queryBody } from '../body.js';
import { respondNoContent } from '../respond.js';
import { withTimeout } from '../timeout.js';
import type { RequestState, Routes } from './route.js';

/**
 * KairosDB's Roll-ups API (`rollups: true`): POST /rollups creates a task, GET /rollups lists them, GET|PUT|DELETE
 * /rollups/{id} reads, replaces (keeping the id) and deletes one, GET /rollups/status/{id} answers its last
 * execution's status. Behind `authorize` with `{ action: 'rollups' }`; on a tenant-bound mount each tenant has its own.
 */
export function rollupRoutes(options: ResolvedOptions, tasks: RollupTasks, maxTasks: number): Routes {
  const store = <T>(request: RequestState, work: Promise<T>) => withTimeout(work, options.storeTimeoutMs, request.storeCalls);
  /** The checked task of a body, authorized with the metrics it reads and writes. */
  const taskOf = async (ctx: Context, request: RequestState, id: string, operation: 'create' | 'update'): Promise<RollupTask> => {
    const parsed = parseTask(await queryBody(ctx, request.reading, options), id, options, options.clock());
    if (!parsed.ok) throw new KairosHttpError('INVALID_BODY', parsed.errors);
    const { task } = parsed;
    const reads = task.rollups.flatMap((r) => (r.query.metrics as { name: string }[]).map((m) => m.name));
    await authorize(options, ctx, { action: 'rollups', operation, id, metrics: [...new Set(reads)], saveAs: task.rollups.map((r) => r.saveAs) });
    return task;
  };
  const found = async (request: RequestState, id: string) => {
    const task = await store(request, tasks.get(id, request.tenant));
    if (!task) throw httpError('ROLLUP_NOT_FOUND', id);
    return task;
  };
  const created = (ctx: Context, task: RollupTask) => {
    ctx.body = { id: task.id, name: task.name, attributes: { url: `${options.prefix}/rollups/${task.id}` } };
  };
  return {
    '/rollups': {
      POST: async (ctx, request) => {
        const task = await taskOf(ctx, request, randomUUID(), 'create');
        request.admit('write');
        if ((await store(request, tasks.count(request.tenant))) >= maxTasks) throw httpError('TOO_MANY_ROLLUPS', maxTasks);
        await store(request, tasks.put({ id: task.id, json: task.json, tenant: request.tenant }));
        created(ctx, task);
      },
      GET: async (ctx, request) => {
        await authorize(options, ctx, { action: 'rollups', operation: 'list' });
        request.admit('query');
        ctx.body = (await store(request, tasks.of(request.tenant))).map((t) => t.json);
      },
    },
    '/rollups/status/{id}': {
      GET: async (ctx, request) => {
        const id = request.param;
        await authorize(options, ctx, { action: 'rollups', operation: 'status', id });
        request.admit('query');
        await found(request, id);
        const status = await store(request, tasks.status(id));
        if (!status) throw httpError('ROLLUP_STATUS_NOT_FOUND', id);
        ctx.body = status;
      },
    },
    '/rollups/{id}': {
      GET: async (ctx, request) => {
        const id = request.param;
        await authorize(options, ctx, { action: 'rollups', operation: 'read', id });
        request.admit('query');
        ctx.body = (await found(request, id)).json;
      },
      PUT: async (ctx, request) => {
        const id = request.param;
        const task = await taskOf(ctx, request, id, 'update');
        request.admit('write');
        await found(request, id);
        await store(request, tasks.put({ id, json: task.json, tenant: request.tenant }));
        created(ctx, task);
      },
      DELETE: async (ctx, request) => {
        const id = request.param;
        await authorize(options, ctx, { action: 'rollups', operation: 'delete', id });
        request.admit('write');
        await found(request, id);
        await store(request, tasks.remove(id));
        respondNoContent(ctx);
      },
    },
  };
}
