import type { Context } from 'koa';
import { httpError } from '../errors.js';

/** Routes that take a POST body but only read: a browser may send them from anywhere (CORS decides who reads the answer). */
const READING_POSTS = new Set(['/datapoints/query', '/datapoints/query/tags']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses a state-changing request (ingest, delete, metadata write) that a browser marks as coming from another site:
 * `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither this server's nor allowed. Clients and collectors send
 * neither header and are unaffected; an origin in `allowed` (or `'*'` there) is let through.
 */
export function refuseCrossSite(ctx: Context, route: string, allowed: ReadonlySet<string>): void {
  if (SAFE_METHODS.has(ctx.method) || READING_POSTS.has(route)) return;
  const origin = ctx.get('Origin');
  const site = ctx.get('Sec-Fetch-Site').toLowerCase();
  if (origin === '' && site === '') return;
  if (allowed.has('*') || (origin !== '' && allowed.has(origin))) return;
  if (site === 'cross-site') throw httpError('CROSS_SITE', origin === '' ? 'another site' : origin);
  // The browser's own verdict stands over the scheme Koa sees behind a TLS-terminating proxy (without app.proxy).
  if (site === 'same-origin') return;
  // Koa 3's ctx.origin is the Origin header; this server's own origin is built from the protocol and host it sees.
  if (origin !== '' && origin !== `${ctx.protocol}://${ctx.host}`) throw httpError('CROSS_SITE', origin);
}
