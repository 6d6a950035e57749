import type { QueryBudget } from '../query/budget.js';
import type { QueryResult } from '../query/execute.js';

/** One entry of `queries`; `/datapoints/query/tags` answers none with a `sample_size`. */
interface AnswerEntry {
  readonly sample_size?: number;
  readonly results: readonly QueryResult[];
}

/** Values written in one piece of the answer, between turns given to the event loop. */
const SLICE = 4096;

/**
 * A query answer as JSON, in pieces: byte-identical to `JSON.stringify(answer)`, written a slice of values at a
 * time so no single stretch of serialising blocks the event loop, and counted against the answer's byte cap.
 */
export async function answerJson(answer: { queries: readonly AnswerEntry[] }, budget: QueryBudget): Promise<Buffer[]> {
  const pieces: Buffer[] = [];
  const write = (text: string) => {
    const piece = Buffer.from(text);
    budget.written(piece.length);
    pieces.push(piece);
  };
  write('{"queries":[');
  for (let q = 0; q < answer.queries.length; q++) {
    const query = answer.queries[q] as AnswerEntry;
    const size = query.sample_size === undefined ? '' : `"sample_size":${JSON.stringify(query.sample_size)},`;
    write(`${q > 0 ? ',' : ''}{${size}"results":[`);
    for (let r = 0; r < query.results.length; r++) {
      const { values, ...head } = query.results[r] as QueryResult;
      const opening = JSON.stringify(head);
      write(`${r > 0 ? ',' : ''}${opening.slice(0, -1)}${opening === '{}' ? '' : ','}"values":[`);
      for (let i = 0; i < values.length; i += SLICE) {
        const slice = JSON.stringify(values.slice(i, i + SLICE));
        write(`${i > 0 ? ',' : ''}${slice.slice(1, -1)}`);
        await budget.pace();
      }
      write(']}');
      await budget.pace();
    }
    write(']}');
  }
  write(']}');
  return pieces;
}
