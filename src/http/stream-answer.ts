import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { KairosHttpError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RequestState } from './routes/route.js';
import { withTimeout } from './timeout.js';

/** An answer up to this size is held and sent with its length, so any failure before it is a plain error status. */
const HELD_BYTES = 1024 * 1024;

/**
 * Sends a JSON answer made of pieces. Up to {@link HELD_BYTES} are gathered first: an answer that fits is sent whole
 * (with Content-Length), and a failure meanwhile becomes the usual error answer. A longer answer is streamed as its
 * pieces come (chunked), holding one piece at a time; a failure after that (a store error, a cap, the deadline) cuts
 * the connection before the final chunk, so a client sees an incomplete response, never a short but well-formed one
 * (the error reaches the app's `error` event through Koa, as a failing body stream does).
 * Each piece waits at most `pieceTimeoutMs`; the request's in-flight slot is held until the stream ends.
 */
export async function sendAnswer(ctx: Context, request: RequestState, pieces: AsyncGenerator<Buffer>, pieceTimeoutMs: number, logger: Logger): Promise<void> {
  const held: Buffer[] = [];
  let size = 0;
  try {
    while (size < HELD_BYTES) {
      const next = await withTimeout(pieces.next(), pieceTimeoutMs, request.storeCalls);
      if (next.done) {
        ctx.type = 'application/json';
        ctx.length = size;
        ctx.body = Readable.from(held);
        return;
      }
      held.push(next.value);
      size += next.value.length;
    }
  } catch (error) {
    await pieces.return(undefined);
    throw error;
  }
  let ended!: () => void;
  request.storeCalls.push(new Promise<void>((resolve) => (ended = resolve)));
  ctx.type = 'application/json';
  ctx.body = Readable.from(rest(ctx, held, pieces, pieceTimeoutMs, logger, ended));
}

async function* rest(ctx: Context, held: Buffer[], pieces: AsyncGenerator<Buffer>, pieceTimeoutMs: number, logger: Logger, ended: () => void): AsyncGenerator<Buffer> {
  try {
    yield* held;
    held.length = 0;
    for (;;) {
      const next = await withTimeout(pieces.next(), pieceTimeoutMs, []);
      if (next.done) return;
      yield next.value;
    }
  } catch (error) {
    if (error instanceof KairosHttpError) logger.warn({ err: error, path: ctx.path }, `koa-kairosdb: streamed answer cut off: ${error.errors.join('; ')}`);
    else logger.error({ err: error, path: ctx.path }, 'koa-kairosdb: streamed answer failed');
    // Koa 3 destroys the response when its body stream fails; Koa 2 leaves it open, so it is cut here.
    setImmediate(() => ctx.res.destroy());
    throw error instanceof Error ? error : new Error(`koa-kairosdb: non-error thrown: ${String(error)}`);
  } finally {
    await pieces.return(undefined);
    ended();
  }
}
