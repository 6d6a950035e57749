import type { QueryBudget } from '../query/budget.js';
import type { AnswerEvent } from '../query/execute.js';

/** Text gathered before it is handed on as one piece. */
const PIECE = 64 * 1024;

/**
 * A query answer as JSON pieces, written as its events come: byte-identical to `JSON.stringify` of the answer (a
 * long beyond ±(2^53−1) written with its exact digits, where JSON.stringify refuses) with each entry's
 * `sample_size` after its `results` (known only once they are read; JSON key order carries no meaning), and counted
 * against the answer's byte cap.
 */
export async function* answerJson(events: AsyncIterable<AnswerEvent>, budget: QueryBudget): AsyncGenerator<Buffer> {
  let text = '{"queries":[';
  let queries = 0;
  let results = 0;
  let values = 0;
  const piece = () => {
    const out = counted(text, budget);
    text = '';
    return out;
  };
  for await (const event of events) {
    if (event.kind !== 'end-query') {
      if (event.kind === 'result') {
        if (results === 0) text += `${queries > 0 ? ',' : ''}{"results":[`;
        const opening = JSON.stringify(event.head);
        text += `${results > 0 ? ',' : ''}${opening.slice(0, -1)}${opening === '{}' ? '' : ','}"values":[`;
        results++;
        values = 0;
      }
      if (event.values.length > 0) text += `${values > 0 ? ',' : ''}${valuesJson(event.values)}`;
      values += event.values.length;
      if (!event.more) text += ']}';
    } else {
      if (results === 0) text += `${queries > 0 ? ',' : ''}{"results":[`;
      text += event.sampleSize === undefined ? ']}' : `],"sample_size":${event.sampleSize}}`;
      queries++;
      results = 0;
    }
    if (text.length >= PIECE) yield piece();
  }
  text += ']}';
  yield piece();
}

/** `[t, v]` pairs as JSON without the outer brackets; a long beyond ±(2^53−1) (a BigInt) with its exact digits. */
export function valuesJson(values: readonly (readonly [number, unknown])[]): string {
  try {
    return JSON.stringify(values).slice(1, -1);
  } catch (error) {
    // JSON.stringify refuses BigInts; a slice holding one (rare) is written pair by pair.
    if (!(error instanceof TypeError)) throw error;
    return values.map(([t, v]) => `[${t},${typeof v === 'bigint' ? v.toString() : JSON.stringify(v)}]`).join(',');
  }
}

/** Names written by one `JSON.stringify` (a call per name took ~15 ms for 100,000). */
const NAMES_AT_ONCE = 2048;

/** A list of names as `{"results":[…]}` in pieces, counted against the answer's byte cap, giving the event loop turns. */
export async function* listJson(names: readonly string[], budget: QueryBudget): AsyncGenerator<Buffer> {
  let text = '{"results":[';
  for (let i = 0; i < names.length; i += NAMES_AT_ONCE) {
    text += `${i > 0 ? ',' : ''}${JSON.stringify(names.slice(i, i + NAMES_AT_ONCE)).slice(1, -1)}`;
    if (text.length >= PIECE) {
      yield counted(text, budget);
      text = '';
      await budget.pace();
    }
  }
  yield counted(`${text}]}`, budget);
}

/** A piece of an answer, its bytes counted against the answer's cap. */
function counted(text: string, budget: QueryBudget): Buffer {
  const out = Buffer.from(text);
  budget.written(out.length);
  return out;
}
