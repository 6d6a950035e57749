import type { Context } from 'koa';
import type { ResolvedOptions } from '../../options.js';
import { budgetOf } from '../../query/budget.js';
import { RunningQueries } from '../../query/running.js';
import { eventsOf, queryEvents, seriesOf, tagsOf, type AnswerEvent } from '../../query/execute.js';
import { KairosHttpError } from '../../errors.js';
import { createIngest } from '../../ingest/ingest.js';
import { SavedPoints, savesPoints } from '../../query/save-as.js';
import { json, queryBody } from '../body.js';
import { storePoints } from './protocol-write.js';
import { answerJson } from '../json-answer.js';
import { parseQueryRequest } from '../query-request.js';
import { paceOf, sendAnswer } from '../stream-answer.js';
import { withTimeout } from '../timeout.js';
import type { RequestState, Routes } from './route.js';

/** POST and GET /datapoints/query, POST /datapoints/query/tags. */
export function queryRoutes(options: ResolvedOptions, running: RunningQueries = new RunningQueries()): Routes {
  const ingest = createIngest(options);
  /** A query with save_as: its answer held (within the output caps) until the saved points are written, all or none. */
  const saveFirst = async (ctx: Context, request: RequestState, events: AsyncIterable<AnswerEvent>, saved: SavedPoints) => {
    const answer = await withTimeout(heldAnswer(events), options.storeTimeoutMs, request.storeCalls);
    const metrics = saved.metrics();
    const refused = (origin: number, message: string) => new KairosHttpError('INVALID_BODY', [`save_as: ${message.replace(/^point/, `saved series ${origin}`)}`]);
    if (metrics.length > 0) await storePoints(ctx, request, options, ingest, { metrics, origins: metrics.map((_, i) => i) }, 'save_as', refused);
    return replay(answer);
  };
  const run = async (ctx: Context, request: RequestState, body: unknown) => {
    const now = options.clock();
    const spec = await parseQueryRequest(options, ctx, request, body, 'read');
    request.admit('query');
    const budget = budgetOf(options);
    const saved = spec.metrics.some((m) => savesPoints(m.aggregators)) ? new SavedPoints(budget) : undefined;
    const context = { store: options.store, types: options.types, now, budget, ...(saved ? { saved } : {}) };
    const started = performance.now();
    const events = counted(queryEvents(spec, context), (n) => (request.datapoints += n));
    // Listed until its answer is sent: a streamed one goes on after this handler returns (its end is in storeCalls).
    const done = running.add(body, budget);
    try {
      const answer = saved ? await saveFirst(ctx, request, events, saved) : events;
      await sendAnswer(ctx, request, answerJson(answer, budget), options.storeTimeoutMs, options.logger, paceOf(budget, options, request));
    } catch (error) {
      done();
      throw error;
    }
    void Promise.allSettled(request.storeCalls).then(done);
    request.storeMs = performance.now() - started;
  };
  return {
    '/datapoints/query': {
      POST: async (ctx, request) => run(ctx, request, await queryBody(ctx, request.reading, options)),
      GET: async (ctx, request) => run(ctx, request, json(typeof ctx.query.query === 'string' ? ctx.query.query : '', options.maxJsonDepth)),
    },
    '/datapoints/query/tags': {
      POST: async (ctx, request) => {
        const spec = await parseQueryRequest(options, ctx, request, await queryBody(ctx, request.reading, options), 'read');
        request.admit('query');
        const budget = budgetOf(options);
        const tagsOfMetrics = async () => {
          const queries = [];
          for (const metric of spec.metrics) {
            const series = await seriesOf(spec, metric, { store: options.store, types: options.types, now: 0, budget });
            queries.push({ results: [{ name: metric.name, tags: await tagsOf(series, () => (budget.due ? budget.pace() : undefined)), values: [] }] });
            await budget.pace();
          }
          return { queries };
        };
        const started = performance.now();
        const answer = await withTimeout(tagsOfMetrics(), options.storeTimeoutMs, request.storeCalls);
        request.storeMs = performance.now() - started;
        await sendAnswer(ctx, request, answerJson(eventsOf(answer), budget), options.storeTimeoutMs, options.logger, paceOf(budget, options, request));
      },
    },
  };
}

/** Passes events on, reporting each query metric's sample size (the points read, for `onRequest`). */
async function* counted(events: AsyncIterable<AnswerEvent>, read: (n: number) => void): AsyncGenerator<AnswerEvent> {
  for await (const event of events) {
    if (event.kind === 'end-query') read(event.sampleSize ?? 0);
    yield event;
  }
}

/** Every event of a query, held. */
async function heldAnswer(events: AsyncIterable<AnswerEvent>): Promise<AnswerEvent[]> {
  const held: AnswerEvent[] = [];
  for await (const event of events) held.push(event);
  return held;
}

async function* replay(events: readonly AnswerEvent[]): AsyncGenerator<AnswerEvent> {
  yield* events;
}
