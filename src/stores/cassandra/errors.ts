import { StoreUnavailableError } from '../../store-api/unavailable.js';

const UNAVAILABLE_NAMES = new Set(['NoHostAvailableError', 'OperationTimedOutError', 'BusyConnectionError']);
const UNAVAILABLE_CODES = new Set([
  0x1000, // Unavailable
  0x1001, // Overloaded
  0x1002, // IsBootstrapping
  0x1100, // WriteTimeout
  0x1200, // ReadTimeout
]);

/**
 * Driver errors that mean "retry later" become a StoreUnavailableError whose message says where (`where`: contact
 * points and keyspace) and why (each host tried, first line of its error); anything else is returned as it is.
 */
export function mapDriverError(error: unknown, where = ''): unknown {
  const { name, code } = (error ?? {}) as { name?: string; code?: number };
  if ((name && UNAVAILABLE_NAMES.has(name)) || (name === 'ResponseError' && code !== undefined && UNAVAILABLE_CODES.has(code))) {
    const context = where ? ` (${where})` : '';
    return new StoreUnavailableError(`Cassandra is unavailable${context}: ${reasons(error as Error)}`, { cause: error });
  }
  return error;
}

/** Whether no host of the cluster could be reached at all (as opposed to too few replicas, or one slow node). */
export function isNoHostAvailable(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'NoHostAvailableError';
}

function reasons(error: Error & { innerErrors?: Record<string, unknown> }): string {
  const hosts = Object.entries(error.innerErrors ?? {});
  if (hosts.length === 0) return `${error.name}: ${firstLine(error.message)}`;
  const listed = hosts.slice(0, 3).map(([host, inner]) => `${host} ${firstLine(String((inner as Error)?.message ?? inner))}`);
  return `${error.name}: ${listed.join('; ')}${hosts.length > 3 ? `; and ${hosts.length - 3} more hosts` : ''}`;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] as string;
}

/** Whether the server refused a batch for its size. */
export function isBatchTooLarge(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  return name === 'ResponseError' && /batch too large/i.test(message ?? '');
}
