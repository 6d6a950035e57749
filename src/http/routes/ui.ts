import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context } from 'koa';
import { resolvePeerFile } from '../../optional-peer.js';
import type { Routes } from './route.js';

/** The page's own strict policy: everything from this origin, nothing inline. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

interface Asset {
  type: string;
  body: Buffer;
}

/**
 * GET /ui/: the explorer page (ui/ in the package, uPlot from its npm package), under the mount's prefix so that it
 * calls the same routes as clients, with the host's middleware in front. Files are read once, when the mount is made.
 */
export function uiRoutes(): Routes {
  const here = (file: string) => fileURLToPath(new URL(`../../../ui/${file}`, import.meta.url));
  const assets = new Map<string, Asset>([
    ['', { type: 'text/html; charset=utf-8', body: readFileSync(here('index.html')) }],
    ['explorer.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(here('explorer.js')) }],
    ['explorer.css', { type: 'text/css; charset=utf-8', body: readFileSync(here('explorer.css')) }],
    ['uPlot.iife.min.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(resolvePeerFile('uplot', 'dist/uPlot.iife.min.js')) }],
    ['uPlot.min.css', { type: 'text/css; charset=utf-8', body: readFileSync(resolvePeerFile('uplot', 'dist/uPlot.min.css')) }],
  ]);
  const serve = (ctx: Context, name: string) => {
    const asset = assets.get(name);
    if (!asset) {
      ctx.status = 404;
      ctx.body = { errors: [`No file '${name.slice(0, 100)}' in the explorer`] };
      return;
    }
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', name === '' ? 'no-cache' : 'public, max-age=3600');
    ctx.type = asset.type;
    ctx.body = asset.body;
  };
  return {
    '/ui': {
      GET: async (ctx) => {
        ctx.redirect(ctx.originalUrl.replace(/^[^?]*/, (path) => `${path}/`));
      },
    },
    '/ui/': { GET: async (ctx) => serve(ctx, '') },
    '/ui/{file}': { GET: async (ctx, request) => serve(ctx, request.param) },
  };
}
