import type { Context } from 'koa';

/** Which mount answers each full path, per app: a second mount on the same paths would never be reached. */
const claimsByApp = new WeakMap<object, Map<string, symbol>>();

/**
 * Notes the paths a mount answers, once per app (on the first request through it), and returns the paths another
 * mount of the same app already answers (under the same koa-mount point), so that the mount can say it is shadowed.
 */
export function claimPaths(ctx: Context, mount: symbol, paths: Iterable<string>): string[] {
  let claims = claimsByApp.get(ctx.app);
  if (!claims) claimsByApp.set(ctx.app, (claims = new Map()));
  const mountPath = (ctx as { mountPath?: unknown }).mountPath;
  const base = typeof mountPath === 'string' && mountPath !== '/' ? mountPath : '';
  const shadowed: string[] = [];
  for (const path of paths) {
    const owner = claims.get(base + path);
    if (owner === undefined) claims.set(base + path, mount);
    else if (owner !== mount) shadowed.push(base + path);
  }
  return shadowed;
}
