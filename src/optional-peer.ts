import { createRequire } from 'node:module';

/**
 * Optional peer dependencies: a store's driver is installed by the host only when it uses that store. A missing one is
 * told with the command that installs it, instead of a bare ERR_MODULE_NOT_FOUND.
 */
const PEERS = {
  'better-sqlite3': { range: '@12', usedBy: 'SqliteStore' },
  'cassandra-driver': { range: '@4', usedBy: 'CassandraStore (and the cassandra option)' },
  uplot: { range: '@1', usedBy: 'the explorer page (routes.ui)' },
  snappy: { range: '@7', usedBy: 'Prometheus remote write (routes.prometheus)' },
  re2js: { range: '@2', usedBy: "Prometheus remote read's regular expressions (routes.prometheus)" },
} as const;

export type Peer = keyof typeof PEERS;

/** Loads a CommonJS peer synchronously. */
export function requirePeer<T>(name: Peer): T {
  try {
    return createRequire(import.meta.url)(name) as T;
  } catch (error) {
    throw explainMissing(name, error);
  }
}

/** The path of a file inside a peer package. */
export function resolvePeerFile(name: Peer, file: string): string {
  try {
    return createRequire(import.meta.url).resolve(`${name}/${file}`);
  } catch (error) {
    throw explainMissing(name, error);
  }
}

/** Loads a peer as a module. */
export async function importPeer<T>(name: Peer, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw explainMissing(name, error);
  }
}

/** The error to throw for a failed load: a plain "install it" when the package is missing, else the error as it is. */
export function explainMissing(name: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const message = String((error as Error).message);
  // The package itself, or a file inside it ('uplot/dist/uPlot.iife.min.js').
  const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && (message.includes(`'${name}'`) || message.includes(`'${name}/`));
  if (!missing) return error;
  const peer = PEERS[name as Peer];
  const install = `npm install ${name}${peer?.range ?? ''}`;
  return new Error(`koa-kairosdb: ${peer?.usedBy ?? 'this feature'} needs the '${name}' package, which is not installed; run: ${install}`, { cause: error });
}
