import type { Context } from 'koa';
import { httpError, KairosHttpError } from '../errors.js';
import type { Logger } from '../logger.js';
import { isUnavailable } from '../store-api/unavailable.js';
import { ValueTypeError } from '../types/value-type.js';

/**
 * Answers a failed request: its own status for HTTP errors, 503 for an unavailable store, else 500; returns the
 * answer's code. A 500 is also emitted on the app (`ctx.app.emit('error', err, ctx)`, as Koa does with its own), so Koa prints it unless the host listens.
 */
export function respondWithError(ctx: Context, error: unknown, logger: Logger, writing: boolean): string {
  let answer: KairosHttpError;
  if (error instanceof KairosHttpError) {
    answer = error;
  } else if (isUnavailable(error)) {
    logger.warn({ err: error, path: ctx.path }, 'koa-kairosdb: store unavailable');
    answer = httpError('STORE_UNAVAILABLE');
    ctx.set('Retry-After', String(Math.max(1, Math.ceil(error.retryAfter ?? 1))));
  } else if (isAuthorizationRefusal(error)) {
    answer = httpError('FORBIDDEN', 'Forbidden');
  } else if (error instanceof ValueTypeError) {
    if (error.first) logger.error({ err: error, path: ctx.path }, `koa-kairosdb: ${error.message} (logged once per type)`);
    answer = httpError('VALUE_TYPE_FAILED', error.typeName);
  } else {
    logger.error({ err: error, path: ctx.path }, 'koa-kairosdb: request failed');
    ctx.app.emit('error', error instanceof Error ? error : new Error(`koa-kairosdb: non-error thrown: ${String(error)}`), ctx);
    answer = httpError('INTERNAL', writing);
  }
  if (answer.status === 503 && !ctx.response.get('Retry-After')) ctx.set('Retry-After', '1');
  const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
  if (answer.status === 429 && typeof retryAfter === 'number') ctx.set('Retry-After', String(Math.max(1, retryAfter)));
  if (answer.status === 413 || answer.status === 408) ctx.set('Connection', 'close');
  ctx.status = answer.status;
  ctx.body = answer.body ?? { errors: answer.errors };
  return answer.code;
}

/** A 401 or 403 thrown by the host's `authorize` hook (e.g. `ctx.throw(403)`). */
function isAuthorizationRefusal(error: unknown): boolean {
  const status = (error as { status?: unknown } | null)?.status;
  return status === 401 || status === 403;
}

/** Answers 204 with no body. */
export function respondNoContent(ctx: Context): void {
  ctx.status = 204;
  ctx.body = null;
}
