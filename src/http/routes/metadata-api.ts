import type { Context } from 'koa';
import { httpError } from '../../errors.js';
import type { ResolvedOptions } from '../../options.js';
import type { MetadataStore } from '../../store-api/contract.js';
import { authorize } from '../access.js';
import { textBody } from '../body.js';
import { sendList } from '../stream-answer.js';
import { respondNoContent } from '../respond.js';
import { withTimeout } from '../timeout.js';
import type { RequestState, Routes } from './route.js';

/** Longest service, service key or key name. */
const MAX_NAME = 1024;

/**
 * KairosDB's Metadata API: GET /metadata/{service} lists service keys, GET /metadata/{service}/{serviceKey} lists
 * keys, GET|POST|DELETE /metadata/{service}/{serviceKey}/{key} reads (text, empty when unset), writes (the body, as
 * text) and deletes a value. On a tenant-bound mount every tenant has its own services.
 */
export function metadataApiRoutes(options: ResolvedOptions): Routes {
  const store = () => {
    if (!options.store.metadata) throw httpError('METADATA_UNSUPPORTED');
    return options.store.metadata;
  };
  const run = <T>(request: RequestState, work: (meta: MetadataStore) => Promise<T>) => withTimeout(work(store()), options.storeTimeoutMs, request.storeCalls);
  const read = async (ctx: Context, request: RequestState) => {
    const path = pathOf(request, 1, 3);
    await authorize(options, ctx, { action: 'metadata', operation: 'read', ...path.names });
    request.admit('query');
    const [service, serviceKey, key] = path.stored(request.tenant);
    if (key !== undefined) {
      const value = await run(request, (meta) => meta.get(service, serviceKey as string, key));
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = value ?? '';
    } else {
      if ((await run(request, (meta) => countKeys(meta, service, options.maxMetadataKeys + 1))) > options.maxMetadataKeys) {
        throw httpError('METADATA_TOO_MANY', options.maxMetadataKeys);
      }
      const names = await run(request, (meta) => (serviceKey !== undefined ? meta.keys(service, serviceKey) : meta.serviceKeys(service)));
      await sendList(ctx, request, names, options);
    }
  };
  const change = (operation: 'write' | 'delete') => async (ctx: Context, request: RequestState) => {
    const path = pathOf(request, 3, 3);
    const value = operation === 'write' ? await textBody(ctx, request.reading, options) : '';
    await authorize(options, ctx, { action: 'metadata', operation, ...path.names });
    request.admit('write');
    const [service, serviceKey, key] = path.stored(request.tenant) as [string, string, string];
    if (operation === 'write') {
      const isNew = (await run(request, (meta) => meta.get(service, serviceKey, key))) === undefined;
      if (isNew && (await run(request, (meta) => countKeys(meta, service, options.maxMetadataKeys))) >= options.maxMetadataKeys) {
        throw httpError('METADATA_FULL', options.maxMetadataKeys);
      }
    }
    await run(request, (meta) => (operation === 'write' ? meta.set(service, serviceKey, key, value) : meta.delete(service, serviceKey, key)));
    respondNoContent(ctx);
  };
  return { '/metadata/{path}': { GET: read, POST: change('write'), DELETE: change('delete') } };
}

/** The keys a service holds, counting no further than `atMost`; a store without `count` is listed. */
async function countKeys(meta: MetadataStore, service: string, atMost: number): Promise<number> {
  if (meta.count) return meta.count(service, atMost);
  let n = 0;
  for (const serviceKey of await meta.serviceKeys(service)) if ((n += (await meta.keys(service, serviceKey)).length) >= atMost) return atMost;
  return n;
}

/** The names of a metadata path, checked: `min`…`max` non-empty segments of at most MAX_NAME characters. */
function pathOf(request: RequestState, min: number, max: number) {
  const segments = request.params;
  if (segments.length < min || segments.length > max) {
    throw httpError('METADATA_PATH', min === max ? 'this method needs /{service}/{serviceKey}/{key}' : `${segments.length} parts`);
  }
  if (segments.some((s) => s === '' || s.length > MAX_NAME || !s.isWellFormed())) {
    throw httpError('METADATA_PATH', `every part must be 1 to ${MAX_NAME} characters`);
  }
  const [service, serviceKey, key] = segments as [string, string | undefined, string | undefined];
  return {
    names: { service, ...(serviceKey !== undefined ? { serviceKey } : {}), ...(key !== undefined ? { key } : {}) },
    /** The names as stored: the service carries the tenant on a tenant-bound mount. */
    stored: (tenant: string | undefined) => [tenant === undefined ? service : `${tenant}\u0000${service}`, serviceKey, key] as const,
  };
}
