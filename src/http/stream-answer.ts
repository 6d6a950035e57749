import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { KairosHttpError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ResolvedOptions } from '../options.js';
import { QueryBudget } from '../query/budget.js';
import { listJson } from './json-answer.js';
import type { RequestState } from './routes/route.js';
import { ValueTypeError } from '../types/value-type.js';
import { withTimeout } from './timeout.js';

/** An answer up to this size is held and sent with its length, so any failure before it is a plain error status. */
const HELD_BYTES = 1024 * 1024;

/** How an answer must reach its client: by a deadline, and no slower than a rate once a grace period has passed. */
export interface AnswerPace {
  /** `performance.now()` by which the whole answer must be sent (the query's deadline). */
  readonly deadline: number;
  /** Slowest reading accepted after `graceMs`, in bytes per second; 0 is no minimum. */
  readonly minBytesPerSecond: number;
  readonly graceMs: number;
  /** Streamed answers still being sent, so that the mount's `close()` can end them. */
  readonly open: Set<() => void>;
  /** Calls its argument when the query is killed (admin API); returns the unsubscribe. */
  readonly onKill?: (listener: () => void) => () => void;
}

/** The pace of an answer: the budget's deadline, and the mount's minimum read rate. */
export function paceOf(budget: QueryBudget, options: ResolvedOptions, request: RequestState): AnswerPace {
  return { deadline: budget.deadline, minBytesPerSecond: options.minAnswerBytesPerSecond, graceMs: options.bodyRateGraceMs, open: request.openAnswers, onKill: (listener) => budget.onKill(listener) };
}

/**
 * Sends a JSON answer made of pieces. Up to {@link HELD_BYTES} are gathered first: an answer that fits is sent whole
 * (with Content-Length), and a failure meanwhile becomes the usual error answer. A longer answer is streamed as its
 * pieces come (chunked), holding one piece at a time; a failure after that (a store error, a cap, the deadline, a
 * client reading too slowly) cuts the connection before the final chunk, so a client sees an incomplete response,
 * never a short but well-formed one (the error reaches the app's `error` event through Koa, as a failing body stream
 * does). Each piece waits at most `pieceTimeoutMs`; the request's in-flight slot is held until the stream ends, is
 * cut or its connection closes.
 */
export async function sendAnswer(ctx: Context, request: RequestState, pieces: AsyncGenerator<Buffer>, pieceTimeoutMs: number, logger: Logger, pace: AnswerPace): Promise<void> {
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
  const sent = { bytes: 0 };
  const ended = watch(ctx, request, pace, sent, logger);
  ctx.type = 'application/json';
  ctx.body = Readable.from(rest(ctx, held, pieces, pieceTimeoutMs, logger, { sent, ended, cutOff: request.cutOff }), { highWaterMark: 1 });
}

/**
 * Watches a streamed answer until it ends: past the deadline, or read slower than the minimum rate after the grace
 * period, the connection is cut. The request's slot is freed when the answer ends, is cut or its connection closes
 * (the query itself stops at its next piece). Returns the function that ends the watch.
 */
function watch(ctx: Context, request: RequestState, pace: AnswerPace, sent: { bytes: number }, logger: Logger): () => void {
  const started = performance.now();
  let release!: () => void;
  request.storeCalls.push(new Promise<void>((resolve) => (release = resolve)));
  const cut = (reason: string, kind: string) => {
    request.cutOff(kind);
    logger.warn({ path: ctx.path, sentBytes: sent.bytes }, `koa-kairosdb: streamed answer cut off: ${reason}`);
    ctx.res.destroy();
    end();
  };
  // The rate is taken over the last grace period, so bytes the socket buffers at the start cannot hide a client that stopped reading.
  const marks = [{ at: started, bytes: 0 }];
  const check = () => {
    const now = performance.now();
    if (now >= pace.deadline) return cut('not sent by the query deadline (queryTimeoutMs)', 'deadline');
    marks.push({ at: now, bytes: sent.bytes });
    while (marks.length > 2 && now - (marks[1] as { at: number }).at >= pace.graceMs) marks.shift();
    const from = marks[0] as { at: number; bytes: number };
    const ms = now - from.at;
    if (pace.minBytesPerSecond > 0 && ms >= pace.graceMs && ((sent.bytes - from.bytes) * 1000) / ms < pace.minBytesPerSecond) {
      cut(`read slower than ${pace.minBytesPerSecond} bytes/s (minAnswerBytesPerSecond)`, 'slow_reader');
    }
  };
  const timer = setInterval(check, Math.min(1000, Math.max(10, pace.graceMs / 2)));
  timer.unref();
  const deadline = setTimeout(check, Math.max(0, pace.deadline - started));
  deadline.unref();
  const shutdown = () => cut('the mount is closing', 'closing');
  pace.open.add(shutdown);
  const unsubscribe = pace.onKill?.(() => cut('the query was killed (GET /admin/killquery)', 'killed'));
  let done = false;
  function end(): void {
    if (done) return;
    done = true;
    clearInterval(timer);
    clearTimeout(deadline);
    unsubscribe?.();
    pace.open.delete(shutdown);
    ctx.res.off('close', end);
    release();
  }
  ctx.res.on('close', end);
  return end;
}

/** An answer being sent: bytes sent so far, the end of its watch, and the count of cut answers. */
interface Sending {
  readonly sent: { bytes: number };
  readonly ended: () => void;
  readonly cutOff: (reason: string) => void;
}

async function* rest(ctx: Context, held: Buffer[], pieces: AsyncGenerator<Buffer>, pieceTimeoutMs: number, logger: Logger, { sent, ended, cutOff }: Sending): AsyncGenerator<Buffer> {
  try {
    for (const piece of held) {
      sent.bytes += piece.length;
      yield piece;
    }
    held.length = 0;
    for (;;) {
      const next = await withTimeout(pieces.next(), pieceTimeoutMs, []);
      if (next.done) return;
      sent.bytes += next.value.length;
      yield next.value;
    }
  } catch (error) {
    cutOff(error instanceof KairosHttpError ? error.code : 'failed');
    if (error instanceof KairosHttpError) logger.warn({ err: error, path: ctx.path }, `koa-kairosdb: streamed answer cut off: ${error.errors.join('; ')}`);
    else if (!(error instanceof ValueTypeError) || error.first) logger.error({ err: error, path: ctx.path }, 'koa-kairosdb: streamed answer failed');
    // Koa 3 destroys the response when its body stream fails; Koa 2 leaves it open, so it is cut here.
    setImmediate(() => ctx.res.destroy());
    throw error instanceof Error ? error : new Error(`koa-kairosdb: non-error thrown: ${String(error)}`);
  } finally {
    await pieces.return(undefined);
    ended();
  }
}

/**
 * A list of names as `{"results":[…]}` (metric names, metadata keys): sent in pieces with turns between them (100,000
 * names are ~2 MB of JSON), bounded as a query's answer is.
 */
export function sendList(ctx: Context, request: RequestState, names: readonly string[], options: ResolvedOptions): Promise<void> {
  const budget = new QueryBudget({ maxPoints: Infinity, maxOutputPoints: Infinity, maxGroups: Infinity, maxResponseBytes: options.maxQueryResponseBytes, timeoutMs: options.queryTimeoutMs });
  return sendAnswer(ctx, request, listJson(names, budget), options.storeTimeoutMs, options.logger, paceOf(budget, options, request));
}
