import type { Failure, Struct } from 'superstruct';
import { render } from './messages.js';

/** How long explaining runs before it gives the event loop a turn, ms. */
const SLICE_MS = 10;
/** Nodes walked between two looks at the clock. */
const CHECK_EVERY = 512;
/** Nodes walked to count the errors past the last one listed; beyond it the count is a lower bound. */
const COUNT_NODES = 50_000;

/**
 * Says what is wrong with an invalid body: at most `maxErrors` messages, the last counting the ones not listed. Past
 * the listed ones the walk only counts, for at most {@link COUNT_NODES} more nodes (then the count says "at least"),
 * so a body of a million bad entries costs about what 100 messages cost; it gives the event loop a turn every
 * ~10 ms, so a long valid stretch before the first error never blocks it.
 */
export async function explain(body: unknown, schema: { Body: Struct<unknown, null> }, maxErrors: number): Promise<string[]> {
  const messages: string[] = [];
  let unlisted = 0;
  let nodes = 0;
  let countUntil = Infinity;
  let sliceEnd = performance.now() + SLICE_MS;
  for (const failure of walk(body, schema.Body, [], [body])) {
    if (failure === null) {
      if (++nodes > countUntil) break;
      if (nodes % CHECK_EVERY === 0 && performance.now() >= sliceEnd) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceEnd = performance.now() + SLICE_MS;
      }
    } else if (messages.length < maxErrors) {
      messages.push(render(failure));
    } else {
      if (unlisted === 0) countUntil = nodes + COUNT_NODES;
      unlisted++;
    }
  }
  if (unlisted > 0) {
    const more = unlisted + 1;
    messages[maxErrors - 1] = nodes > countUntil ? `At least ${more} more errors were not reported.` : `${more} more errors were not reported.`;
  }
  return messages;
}

/**
 * The failures of a value against a struct, in superstruct's order (`validate` collects the same ones), pulled one
 * at a time; `null` marks each node visited, so the caller can pace a long walk.
 */
function* walk(value: unknown, struct: Struct<unknown, unknown>, path: unknown[], branch: unknown[]): Generator<Failure | null> {
  yield null;
  const context = { path, branch, mask: false };
  let valid = true;
  for (const failure of struct.validator(value, context)) {
    valid = false;
    yield failure;
  }
  for (const [key, child, childStruct] of struct.entries(value, context)) {
    for (const failure of walk(child, childStruct as Struct<unknown, unknown>, key === undefined ? path : [...path, key], key === undefined ? branch : [...branch, child])) {
      if (failure !== null) valid = false;
      yield failure;
    }
  }
  if (valid) for (const failure of struct.refiner(value, context)) yield failure;
}
