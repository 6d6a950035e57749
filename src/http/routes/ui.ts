import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context } from 'koa';
import type { ResolvedOptions } from '../../options.js';
import { resolvePeerFile } from '../../optional-peer.js';
import { authorize } from '../access.js';
import type { Routes } from './route.js';

/** The page's own strict policy: everything from this origin, nothing inline. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

interface Asset {
  type: string;
  body: Buffer;
  etag?: string;
}

/**
 * GET /ui/: the explorer page (ui/ in the package, uPlot from its npm package), under the mount's prefix so that it
 * calls the same routes as clients, with the host's middleware in front. Files are read once, when the mount is made.
 */
export function uiRoutes(options: ResolvedOptions): Routes {
  const here = (file: string) => fileURLToPath(new URL(`../../../ui/${file}`, import.meta.url));
  const assets = new Map<string, Asset>([
    ['', { type: 'text/html; charset=utf-8', body: readFileSync(here('index.html')) }],
    ['explorer.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(here('explorer.js')) }],
    ['api.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(here('api.js')) }],
    ['rollups.html', { type: 'text/html; charset=utf-8', body: readFileSync(here('rollups.html')) }],
    ['rollups.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(here('rollups.js')) }],
    ['explorer.css', { type: 'text/css; charset=utf-8', body: readFileSync(here('explorer.css')) }],
    ['uPlot.iife.min.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(resolvePeerFile('uplot', 'dist/uPlot.iife.min.js')) }],
    ['uPlot.min.css', { type: 'text/css; charset=utf-8', body: readFileSync(resolvePeerFile('uplot', 'dist/uPlot.min.css')) }],
  ]);
  for (const asset of assets.values()) asset.etag = `"${createHash('sha256').update(asset.body).digest('base64url').slice(0, 22)}"`;
  const serve = async (ctx: Context, name: string) => {
    await authorize(options, ctx, { action: 'info', route: `/ui/${name.slice(0, 100)}` });
    const asset = assets.get(name);
    if (!asset) {
      ctx.status = 404;
      ctx.body = { errors: [`No file '${name.slice(0, 100)}' in the explorer`] };
      return;
    }
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    // Behind the host's auth, so never in shared caches; revalidated by ETag, so an upgrade is seen at once.
    ctx.set('Cache-Control', 'private, no-cache');
    ctx.etag = asset.etag as string;
    ctx.type = asset.type;
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.body = asset.body;
  };
  return {
    '/ui': {
      GET: async (ctx) => {
        // Relative, so that neither an absolute-form request target nor a Host header can send the browser elsewhere.
        ctx.redirect(`ui/${ctx.querystring === '' ? '' : `?${ctx.querystring}`}`);
      },
    },
    '/ui/': { GET: async (ctx) => serve(ctx, '') },
    '/ui/{file}': { GET: async (ctx, request) => serve(ctx, request.param) },
  };
}
