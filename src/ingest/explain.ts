import { validate, type Failure, type Struct } from 'superstruct';
import { render } from './messages.js';

/** Says what is wrong with an invalid body: at most `maxErrors` messages, the last counting any dropped. */
export function explain(body: unknown, schema: { Body: Struct<unknown, null>; Metric: Struct<unknown, null> }, maxErrors: number): string[] {
  const messages: string[] = [];
  let total = 0;
  const add = (failure: Failure) => {
    total++;
    if (messages.length < maxErrors) messages.push(render(failure));
  };
  const metrics = Array.isArray(body) ? body : [body];
  const [bodyError] = validate(body, schema.Body);
  if (!bodyError) return [];
  if (typeof body !== 'object' || body === null) return bodyError.failures().map(render);
  for (let i = 0; i < metrics.length; i++) {
    const at = { coerce: false, path: [i], branch: [body, metrics[i]] };
    const [error] = validate(metrics[i], schema.Metric, at);
    if (error) for (const failure of error.failures()) add(failure);
  }
  if (total > messages.length) {
    messages.length = maxErrors - 1;
    messages.push(`${total - messages.length} more errors were not reported.`);
  }
  return messages;
}
