import Koa3 from 'koa';
import Koa2 from 'koa2';
import request from 'supertest';
import { kairosdb, MemoryStore, type KairosdbOptions, type Store } from '../src/index.js';
import { readAll } from '../src/store-api/conformance.js';

/** Both supported Koa majors, to run every HTTP test against each. */
export const KOAS = [
  ['koa 3', Koa3],
  ['koa 2', Koa2],
] as const;

export type KoaClass = (typeof KOAS)[number][1];

/** A real Koa app with the middleware mounted on a MemoryStore (or the given store). */
export function mount(Koa: KoaClass, options: Partial<KairosdbOptions> = {}) {
  const store = (options.store ?? new MemoryStore()) as Store;
  const app = new Koa();
  app.use(kairosdb({ ...options, store }));
  const server = app.callback();
  return {
    app,
    store,
    post: (body: unknown, headers: Record<string, string> = {}) => {
      const req = request(server).post('/api/v1/datapoints').set(headers);
      return typeof body === 'string' || Buffer.isBuffer(body)
        ? req.serialize((raw: unknown) => raw as string).send(body as string)
        : req.send(body as object);
    },
    read: (metric: string) => readAll(store, { metric }),
  };
}

/** Every metric name and point count in a store, to assert that nothing was written. */
export async function countPoints(store: Store): Promise<number> {
  let count = 0;
  for (const name of await store.metricNames()) {
    for (const s of await readAll(store, { metric: name })) count += s.points.length;
  }
  return count;
}

/** A store that does what `inner` does, but with some calls replaced (each other call runs on `inner` itself). */
export function wrapStore(inner: Store, overrides: Partial<Record<keyof Store, unknown>>): Store {
  const wrapped: Record<string, unknown> = { capabilities: inner.capabilities, metadata: inner.metadata, coordination: inner.coordination };
  for (const name of ['write', 'read', 'metricNames', 'metricNamesWithTag', 'countSeries', 'delete', 'stats', 'figures', 'ping', 'init', 'close'] as const) {
    const method = inner[name] as ((...args: unknown[]) => unknown) | undefined;
    if (method) wrapped[name] = method.bind(inner);
  }
  return Object.assign(wrapped, overrides) as unknown as Store;
}
