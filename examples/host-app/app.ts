import Router from '@koa/router';
import Koa from 'koa';
import { kairosdb, TypeRegistry, type KairosdbMiddleware } from 'koa-kairosdb';
import { SqliteStore } from 'koa-kairosdb/sqlite';
import { histogram } from './histogram.js';

export interface HostAppOptions {
  /** SQLite file; its directory is created when missing. */
  dbPath: string;
  /** The bearer token clients send. */
  token: string;
}

/**
 * A host app as a Koa team writes one: its own routes on @koa/router, its own token auth, and koa-kairosdb on the
 * app under /metrics/api/v1 (clients are given the base URL http://host/metrics and append /api/v1 themselves).
 */
export function createHostApp({ dbPath, token }: HostAppOptions): { app: Koa; metrics: KairosdbMiddleware; close(): Promise<void> } {
  const app = new Koa();
  const router = new Router();
  router.get('/hello', (ctx) => {
    ctx.body = { hello: 'world' };
  });

  app.use(async (ctx, next) => {
    if (ctx.path.startsWith('/metrics/') && !authorized(ctx.get('Authorization'), token)) {
      ctx.status = 401;
      // The explorer (/metrics/api/v1/ui/) in a browser: the challenge makes it ask for a user name (any) and the
      // token as password, once; it then sends them with the page's own calls to the API.
      ctx.set('WWW-Authenticate', 'Basic realm="metrics", charset="UTF-8"');
      ctx.body = { errors: ['Unauthorized'] };
      return;
    }
    await next();
  });
  app.use(router.routes());
  app.use(router.allowedMethods());

  const types = new TypeRegistry();
  types.register(histogram);
  const store = new SqliteStore({ path: dbPath });
  // Mounted on the app, not with router.use(): @koa/router runs such middleware only for paths its own routes match.
  const metrics = kairosdb({ store, types, prefix: '/metrics/api/v1', routes: { ui: true } });
  app.use(metrics);
  return { app, metrics, close: () => store.close() };
}

/** The token as a bearer token (clients, collectors), or as the password of Basic credentials (a browser). */
function authorized(header: string, token: string): boolean {
  if (header === `Bearer ${token}`) return true;
  if (!header.startsWith('Basic ')) return false;
  const credentials = Buffer.from(header.slice(6), 'base64').toString('utf8');
  return credentials.slice(credentials.indexOf(':') + 1) === token;
}
