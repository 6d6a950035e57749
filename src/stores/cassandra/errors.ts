import { StoreUnavailableError } from '../../store/unavailable.js';

const UNAVAILABLE_NAMES = new Set(['NoHostAvailableError', 'OperationTimedOutError', 'BusyConnectionError']);
const UNAVAILABLE_CODES = new Set([
  0x1000, // Unavailable
  0x1001, // Overloaded
  0x1002, // IsBootstrapping
  0x1100, // WriteTimeout
  0x1200, // ReadTimeout
]);

/** Driver errors that mean "retry later" become a StoreUnavailableError; anything else is returned as it is. */
export function mapDriverError(error: unknown): unknown {
  const { name, code } = (error ?? {}) as { name?: string; code?: number };
  if ((name && UNAVAILABLE_NAMES.has(name)) || (name === 'ResponseError' && code !== undefined && UNAVAILABLE_CODES.has(code))) {
    return new StoreUnavailableError(`Cassandra is unavailable (${name})`, { cause: error });
  }
  return error;
}

/** Whether the server refused a batch for its size. */
export function isBatchTooLarge(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  return name === 'ResponseError' && /batch too large/i.test(message ?? '');
}
