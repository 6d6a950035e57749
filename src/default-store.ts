import { silentLogger, type Logger } from './logger.js';
import type { Store } from './store-api/contract.js';
import { lazyStore } from './store-api/lazy.js';
import { isUnavailable } from './store-api/unavailable.js';
import { driverOptions, resolveCassandraOptions, type CassandraStoreOptions } from './stores/cassandra/options.js';

/** Options of the `cassandra` option: those of `new CassandraStore()`. */
export type DefaultCassandraOptions = CassandraStoreOptions;

/**
 * The store of `kairosdb({ cassandra })`: a CassandraStore whose options are checked now and whose driver loads and
 * connects right away, so an unreachable or misconfigured cluster is told at start (to the logger, or as a process
 * warning when there is none), not on the first request.
 */
export function defaultCassandraStore(options: CassandraStoreOptions, logger: Logger): Store {
  const settings: CassandraStoreOptions = { logger, ...options };
  resolveCassandraOptions(settings);
  if (settings.client === undefined) driverOptions(settings);
  const store = lazyStore(async () => new (await import('./cassandra.js')).CassandraStore(settings), { ttl: true, persistent: true });
  store.init?.().catch((error: unknown) => {
    const message = `koa-kairosdb: the Cassandra store did not start: ${(error as Error).message}`;
    // No host answering is logged by the store itself (the same logger), once, as it starts answering 503.
    if (logger === silentLogger) process.emitWarning(message, 'KairosdbStoreWarning');
    else if (!isUnavailable(error)) logger.error({ err: error }, message);
  });
  return store;
}
