import { httpError } from '../errors.js';

/**
 * Waits for a store call at most `ms`; past that answers 503 (the call may still finish; writes are idempotent).
 * The call is recorded on the request so its in-flight slot stays held until the call settles.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, calls: Promise<unknown>[]): Promise<T> {
  calls.push(work);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(httpError('STORE_TIMEOUT', ms)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
