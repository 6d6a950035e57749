import type { Context } from 'koa';
import { httpError } from '../errors.js';
import { parseJson } from '../ingest/parse-json.js';
import { readBody, type BodyReading } from './read-body.js';

/** The parsed JSON body: the host's, if it already parsed it, else read from the request. */
export async function requestBody(ctx: Context, reading: BodyReading): Promise<unknown> {
  const hostParsed = (ctx.request as { body?: unknown }).body;
  if (hostParsed !== undefined && ctx.req.readableEnded) {
    if (typeof hostParsed !== 'string' && !Buffer.isBuffer(hostParsed)) return hostParsed;
    return json(hostParsed);
  }
  return json(await readBody(ctx.req, reading));
}

/** Parses JSON text, answering 400 with KairosDB's message when it is not JSON. */
export function json(body: Buffer | string): unknown {
  const parsed = parseJson(body);
  if (!parsed.ok) throw httpError('INVALID_JSON', parsed.message);
  return parsed.value;
}
