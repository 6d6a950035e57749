/** Thrown by a store that cannot take the request now; the middleware answers 503 with `Retry-After`. */
export class StoreUnavailableError extends Error {
  readonly unavailable = true;
  /** Seconds a client should wait before retrying. */
  readonly retryAfter: number;

  constructor(message: string, options: { cause?: unknown; retryAfter?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StoreUnavailableError';
    this.retryAfter = options.retryAfter ?? 1;
  }
}

/** Whether an error marks itself as "store unavailable" (`unavailable: true`). */
export function isUnavailable(error: unknown): error is { unavailable: true; retryAfter?: number } {
  return typeof error === 'object' && error !== null && (error as { unavailable?: unknown }).unavailable === true;
}
