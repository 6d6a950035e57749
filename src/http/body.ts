import { isUtf8 } from 'node:buffer';
import type { Context } from 'koa';
import { httpError } from '../errors.js';
import { jsonText, parseJson } from '../json.js';
import { mayHoldLongIntegers, parseExact } from '../json-exact.js';
import { exceedsDepth } from '../json-depth.js';
import { exceedsNames, NAMES_SCAN_FROM } from '../json-names.js';
import type { ResolvedOptions } from '../options.js';
import { readBody, type BodyReading } from './read-body.js';
import { turn } from './turns.js';

/** The parsed JSON body: the host's, if it already parsed it, else read from the request. */
export async function requestBody(ctx: Context, reading: BodyReading): Promise<unknown> {
  return (await ingestBody(ctx, reading)).body;
}

/**
 * An ingest body, and the same body read again with its datapoint values exact (`undefined` when its text has no
 * integer of 16 digits or more, or when the host parsed it and kept no raw text): JSON.parse rounds integers beyond
 * ±(2^53−1), which the ingest then refuses — only such a body is read again, the exact way (json-exact.ts), so the
 * usual body pays nothing. A host's parser rounded them too: its raw text (`ctx.request.rawBody`, as koa-bodyparser
 * keeps it) is read again. `owned`: the body was parsed here (not the object a host's parser made).
 */
export async function ingestBody(ctx: Context, reading: BodyReading): Promise<{ body: unknown; owned: boolean; exact(): Promise<unknown> }> {
  const hostParsed = (ctx.request as { body?: unknown }).body;
  // The bytes or text the body came as, kept for a second reading (bytes rather than their decoded text: a request's
  // text of a megabyte or more kept in the heap while the store wrote made V8 collect a large heap in one long pause).
  let raw: Buffer | string | undefined;
  if (hostParsed !== undefined && ctx.req.readableEnded) {
    if (typeof hostParsed === 'string' || Buffer.isBuffer(hostParsed)) raw = hostParsed;
    else if (ctx.request.is('urlencoded', 'multipart')) raw = unparsedText(ctx, hostParsed);
    else {
      const rawBody = (ctx.request as { rawBody?: unknown }).rawBody;
      return { body: hostParsed, owned: false, exact: async () => (typeof rawBody === 'string' ? exactly(rawBody) : undefined) };
    }
  } else raw = await readBody(ctx.req, reading);
  return { body: json(raw, Infinity, reading.namesPerBody), owned: true, exact: () => exactly(raw) };
}

/** A JSON body's bytes as they came, for a parser of its own; or the body a host's parser already made of them. */
export async function jsonBytes(ctx: Context, reading: BodyReading): Promise<{ bytes: Buffer } | { body: unknown }> {
  const hostParsed = (ctx.request as { body?: unknown }).body;
  if (hostParsed !== undefined && ctx.req.readableEnded) return { body: await requestBody(ctx, reading) };
  return { bytes: await readBody(ctx.req, reading) };
}

/** A body (already parsed once) parsed again with its long integers exact, when its text has any (else `undefined`). */
async function exactly(raw: Buffer | string): Promise<unknown> {
  await turn();
  const text = jsonText(raw);
  return (await mayHoldLongIntegers(text, turn)) ? parseExact(text, turn) : undefined;
}

/** A query, tags or delete body: at most `maxQueryBodyBytes` after decompression, nested at most `maxJsonDepth` deep. */
export async function queryBody(ctx: Context, reading: BodyReading, options: ResolvedOptions): Promise<unknown> {
  const body = await requestBody(ctx, smallBody(reading, options));
  if (exceedsDepth(body, options.maxJsonDepth)) throw httpError('TOO_DEEP', options.maxJsonDepth);
  return body;
}

/**
 * Parses JSON text, answering 400 with KairosDB's message when it is not JSON (or nests deeper than `maxDepth`, or uses
 * more than `maxNames` different member names: counted before parsing, see json-names.ts).
 */
export function json(body: Buffer | string, maxDepth = Infinity, maxNames = Infinity): unknown {
  if (maxNames !== Infinity && body.length >= NAMES_SCAN_FROM && exceedsNames(typeof body === 'string' ? Buffer.from(body) : body, maxNames)) {
    throw httpError('TOO_MANY_NAMES', maxNames);
  }
  const parsed = parseJson(body);
  if (!parsed.ok) throw httpError('INVALID_JSON', parsed.message);
  if (maxDepth !== Infinity && exceedsDepth(parsed.value, maxDepth)) throw httpError('TOO_DEEP', maxDepth);
  return parsed.value;
}

/**
 * The text of a body a host's parser took for a form (`curl -d` sends form-urlencoded): kept by @koa/bodyparser and
 * koa-bodyparser as `ctx.request.rawBody`, by koa-body with `includeUnparsed`; else the JSON is lost, a 400 says why.
 */
function unparsedText(ctx: Context, parsed: unknown): string {
  const raw = (ctx.request as { rawBody?: unknown }).rawBody;
  if (typeof raw === 'string') return raw;
  const unparsed = (parsed as Record<symbol, unknown> | null)?.[Symbol.for('unparsedBody')];
  if (typeof unparsed === 'string') return unparsed;
  throw httpError('FORM_BODY');
}

/** A text body (a metadata value): at most `maxQueryBodyBytes` after decompression, valid UTF-8. */
export function textBody(ctx: Context, reading: BodyReading, options: ResolvedOptions): Promise<string> {
  return anyTextBody(ctx, smallBody(reading, options));
}

/** A text body within the reading's limits, valid UTF-8. */
async function anyTextBody(ctx: Context, reading: BodyReading): Promise<string> {
  const body = await anyTextBytes(ctx, reading);
  return typeof body === 'string' ? body : body.toString('utf8');
}

/** A text body within the reading's limits (an ingest body's for a line protocol): its bytes, valid UTF-8, or the text a host parser made. */
export async function anyTextBytes(ctx: Context, reading: BodyReading): Promise<Buffer | string> {
  const host = hostText(ctx);
  if (host !== undefined) return host;
  const bytes = await readBody(ctx.req, reading);
  if (!isUtf8(bytes)) throw httpError('NOT_UTF8');
  return bytes;
}

/** The text body a host's parser already read (its bytes, valid UTF-8, or its text); undefined when none did. */
export function hostText(ctx: Context): Buffer | string | undefined {
  const hostParsed = (ctx.request as { body?: unknown }).body;
  if (hostParsed === undefined || !ctx.req.readableEnded) return undefined;
  const raw = (ctx.request as { rawBody?: unknown }).rawBody;
  if (typeof raw === 'string') return raw;
  if (typeof hostParsed === 'string') return hostParsed;
  if (!Buffer.isBuffer(hostParsed)) throw httpError('FORM_BODY');
  if (!isUtf8(hostParsed)) throw httpError('NOT_UTF8');
  return hostParsed;
}

/** The reading of a query, delete, tags or metadata body: at most `maxQueryBodyBytes`, on the wire and decompressed. */
function smallBody(reading: BodyReading, options: ResolvedOptions): BodyReading {
  const max = options.maxQueryBodyBytes;
  return { ...reading, limits: { wire: Math.min(reading.limits.wire, max), decompressed: Math.min(reading.limits.decompressed, max) } };
}
