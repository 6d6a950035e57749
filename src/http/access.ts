import type { Context } from 'koa';
import { httpError } from '../errors.js';
import { toTagValue } from '../ingest/rules.js';
import { isObject } from '../json.js';
import type { AccessRequest, ResolvedOptions } from '../options.js';


/** Runs the host's `authorize` hook; `false` (or a thrown 401/403) answers 403. */
export async function authorize(options: ResolvedOptions, ctx: Context, request: AccessRequest): Promise<void> {
  if (options.authorize && (await options.authorize(ctx, request)) === false) throw httpError('FORBIDDEN', 'Forbidden');
}

/** The tenant of a request on a tenant-bound mount; a request without one answers 403. */
export function tenantOf(options: ResolvedOptions, ctx: Context): string | undefined {
  if (!options.tenant) return undefined;
  const tenant = options.tenant(ctx);
  if (typeof tenant !== 'string' || tenant === '') throw httpError('FORBIDDEN', 'No tenant for this request');
  return tenant;
}

/**
 * A body whose every metric carries the tenant tag; a metric naming another tenant answers 403. A tenant tag whose
 * value is no tag value at all (an object) is left as sent, so that validation answers 400 as on any mount. `inPlace`
 * for a body the mount parsed itself (no one else holds it): its tags objects get the tag instead of being copied
 * with their metrics (10,000 metrics: 20,000 objects fewer, ~4–15 ms).
 */
export function stampTenant(body: unknown, tag: string, tenant: string, inPlace = false): unknown {
  const stamp = (metric: unknown, i: number) => {
    if (!isObject(metric) || !isObject(metric.tags)) return metric;
    const own = Object.hasOwn(metric.tags, tag) ? metric.tags[tag] : undefined;
    if (own != null) {
      const value = toTagValue(own);
      if (value === undefined) return metric;
      if (value !== tenant) throw httpError('FORBIDDEN', `metric[${i}].tag[${tag}] may not name another tenant`);
    }
    if (!inPlace) return { ...metric, tags: { ...metric.tags, [tag]: tenant } };
    metric.tags[tag] = tenant;
    return metric;
  };
  if (!Array.isArray(body)) return stamp(body, 0);
  if (!inPlace) return body.map(stamp);
  for (let i = 0; i < body.length; i++) stamp(body[i], i);
  return body;
}

/** A tag filter restricted to the tenant; a filter naming only other tenants answers 403. */
export function restrictTags(tags: Record<string, string[]>, tag: string, tenant: string | undefined): Record<string, string[]> {
  if (tenant === undefined) return tags;
  const asked = Object.hasOwn(tags, tag) ? tags[tag] : undefined;
  if (asked && !asked.includes(tenant)) throw httpError('FORBIDDEN', `Tag ${tag} may only name your own tenant`);
  const restricted: Record<string, string[]> = Object.create(null);
  for (const name of Object.keys(tags)) restricted[name] = tags[name] as string[];
  restricted[tag] = [tenant];
  return restricted;
}
