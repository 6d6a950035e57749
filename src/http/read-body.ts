import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { httpError } from '../errors.js';
import type { Admission } from './admission.js';

/** Byte limits of one request body. */
export interface BodyLimits {
  readonly wire: number;
  readonly decompressed: number;
}

/** How one request body may be read: limits, time, and the mount's in-flight byte budget. */
export interface BodyReading {
  readonly limits: BodyLimits;
  /** Most different member names a JSON body may use (`maxNamesPerBody`). */
  readonly namesPerBody: number;
  readonly timeoutMs: number;
  /** The slowest upload accepted once `graceMs` have passed (0: no minimum). */
  readonly rate: { readonly minBytesPerSecond: number; readonly graceMs: number };
  readonly admission: Admission;
  /** Bytes this request holds in the budget. */
  readonly ticket: { bytes: number };
  /** Bytes received on the wire, counted as they arrive. */
  readonly received: { bytes: number };
  /** Decompresses a `Content-Encoding: snappy` body within `max` bytes (routes that take snappy: Prometheus'). */
  readonly snappy?: (raw: Buffer, max: number) => Buffer;
}

type Compression = 'gzip' | 'deflate' | 'snappy' | undefined;

/** Small bodies are inflated on the event loop, up to 32× their size (faster than a thread-pool hop, bounded blocking). */
const INLINE_INFLATE_BYTES = 64 * 1024;
const INLINE_RATIO = 32;
const inline = { gzip: zlib.gunzipSync, inflate: zlib.inflateSync, inflateRaw: zlib.inflateRawSync };
const pooled = { gzip: promisify(zlib.gunzip), inflate: promisify(zlib.inflate), inflateRaw: promisify(zlib.inflateRaw) };
type Inflaters = typeof pooled | typeof inline;

/** Which decompression a request needs, from Content-Encoding, else Content-Type `application/gzip`. */
function compressionOf(contentEncoding: string | undefined, contentType: string | undefined, snappy: boolean): Compression {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return 'gzip';
  if (encoding === 'deflate') return 'deflate';
  if (encoding === 'snappy' && snappy) return 'snappy';
  if (encoding !== '' && encoding !== 'identity') throw httpError('UNSUPPORTED_ENCODING', encoding);
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  return type === 'application/gzip' || type === 'application/x-gzip' ? 'gzip' : undefined;
}

/** A body's compression, once the length it declares fits the wire limit and the byte budget. */
function admitted(req: IncomingMessage, { limits, admission }: BodyReading, snappy: boolean): Compression {
  const compression = compressionOf(req.headers['content-encoding'], req.headers['content-type'], snappy);
  const declared = Number(req.headers['content-length']);
  if (declared > limits.wire) throw httpError('BODY_TOO_LARGE', limits.wire);
  if (declared > admission.available) throw httpError('OVERLOADED');
  return compression;
}

/** Reads a request body, decompressing it, within the wire and decompressed limits, the time limit and the byte budget. */
export async function readBody(req: IncomingMessage, reading: BodyReading): Promise<Buffer> {
  const { limits, admission } = reading;
  const compression = admitted(req, reading, reading.snappy !== undefined);
  const raw = await readStream(req, reading);
  if (!compression) {
    if (raw.length > limits.decompressed) throw httpError('BODY_TOO_LARGE', limits.decompressed);
    return raw;
  }
  const body =
    compression === 'snappy'
      ? (reading.snappy as (raw: Buffer, max: number) => Buffer)(raw, Math.min(limits.decompressed, admission.available))
      : await decompress(raw, compression, limits.decompressed, admission.available);
  admission.reserve(body.length, reading.ticket);
  return body;
}

function readStream(req: IncomingMessage, reading: BodyReading): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  return receive(req, reading, (chunk) => {
    chunks.push(chunk);
    size += chunk.length;
  }).then(() => (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
}

/** Where a body's wire bytes go as they arrive; a promise pauses the request until it settles (a rejection ends it). */
type Sink = (chunk: Buffer) => void | Promise<void>;

/** Receives a request body into `sink` within the wire limit, the time limit, the slowest rate and the byte budget. */
function receive(req: IncomingMessage, reading: BodyReading, sink: Sink): Promise<void> {
  const { limits, admission, ticket, timeoutMs, rate } = reading;
  return new Promise((resolve, reject) => {
    let size = 0;
    let busy = false;
    let ended = false;
    let done = false;
    const started = performance.now();
    const finish = (error: Error | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(pace);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error) {
        req.pause();
        reject(error);
      } else {
        resolve();
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      reading.received.bytes = size;
      if (size > limits.wire) return finish(httpError('BODY_TOO_LARGE', limits.wire));
      let taken: void | Promise<void>;
      try {
        admission.reserve(chunk.length, ticket);
        taken = sink(chunk);
      } catch (error) {
        return finish(error as Error);
      }
      if (!taken) return;
      busy = true;
      req.pause();
      taken.then(
        () => {
          busy = false;
          if (ended) finish(undefined);
          else if (!done) req.resume();
        },
        (error: Error) => finish(error),
      );
    };
    const onEnd = () => {
      ended = true;
      if (!busy) finish(undefined);
    };
    const onError = () => finish(httpError('REQUEST_ABORTED'));
    const onClose = () => (req.complete ? onEnd() : finish(httpError('REQUEST_ABORTED')));
    const timer = setTimeout(() => finish(httpError('BODY_TIMEOUT', timeoutMs)), timeoutMs);
    const pace = rate.minBytesPerSecond > 0 ? setInterval(checkRate, 1000) : undefined;
    function checkRate(): void {
      const seconds = (performance.now() - started) / 1000;
      if (seconds * 1000 >= rate.graceMs && size / seconds < rate.minBytesPerSecond) finish(httpError('BODY_TOO_SLOW', rate.minBytesPerSecond));
    }
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/**
 * Least bytes of a piece of lines handed on (a piece waits for its last line's end). A body under it is read in one
 * piece at its end, as any body: pausing the request for each of several pieces cost ~15 % of the Influx bench row
 * (616 KB bodies, 256 KiB pieces).
 */
const PIECE_BYTES = 1024 * 1024;

/** What reads a body of lines: a piece at a time, each ending at a newline (the last one: whatever is left). */
export type LineSink = (piece: Buffer, last: boolean) => Promise<void>;

/**
 * Reads a body of lines as `readBody` reads a body — the same limits, time, rate and byte budget, gzip and deflate —
 * handing it to `take` while it arrives, in pieces of at least 1 MiB that end at a newline; the last piece is what
 * is left (possibly empty). The request waits while `take` reads a piece; a piece `take` refuses ends the reading
 * there, and the rest of the body is not read. A compressed body is received whole (its wire limit) and inflated a
 * piece at a time.
 */
export async function readLines(req: IncomingMessage, reading: BodyReading, take: LineSink): Promise<void> {
  const { limits, admission, ticket } = reading;
  const compression = admitted(req, reading, false);
  const pieces = new Pieces(take);
  if (!compression) {
    const max = Math.min(limits.wire, limits.decompressed);
    let size = 0;
    await receive(req, reading, (chunk) => {
      size += chunk.length;
      if (size > max) throw httpError('BODY_TOO_LARGE', max);
      return pieces.push(chunk);
    });
    return pieces.end();
  }
  const raw = await readStream(req, reading);
  if (raw.length === 0) throw httpError('INVALID_GZIP', 'the body is empty');
  const inflater = compression === 'gzip' ? zlib.createGunzip() : zlibHeader(raw) ? zlib.createInflate() : zlib.createInflateRaw();
  inflater.end(raw);
  let size = 0;
  // What ends the reading on this side (a limit, a line `take` refuses); leaving the loop destroys the inflater.
  let refused: unknown;
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      size += chunk.length;
      try {
        if (size > limits.decompressed) throw httpError('BODY_TOO_LARGE', limits.decompressed);
        admission.reserve(chunk.length, ticket);
        await pieces.push(chunk);
      } catch (error) {
        refused = error;
        break;
      }
    }
  } catch (error) {
    throw httpError('INVALID_GZIP', (error as Error).message);
  }
  if (refused !== undefined) throw refused;
  return pieces.end();
}

/** Whether a deflate body opens with a zlib header (RFC 1950), else it is raw deflate, which some clients send. */
function zlibHeader(raw: Buffer): boolean {
  return raw.length >= 2 && ((raw[0] as number) & 0x0f) === 8 && (((raw[0] as number) << 8) | (raw[1] as number)) % 31 === 0;
}

/** Chunks gathered into pieces that end at a newline; only a chunk's own bytes are searched (linear in the body). */
class Pieces {
  #held: Buffer[] = [];
  #size = 0;

  constructor(private readonly take: LineSink) {}

  push(chunk: Buffer): Promise<void> | undefined {
    this.#held.push(chunk);
    this.#size += chunk.length;
    if (this.#size < PIECE_BYTES) return undefined;
    const newline = chunk.lastIndexOf(10);
    if (newline === -1) return undefined;
    const all = Buffer.concat(this.#held, this.#size);
    const cut = this.#size - chunk.length + newline + 1;
    this.#held = cut < all.length ? [all.subarray(cut)] : [];
    this.#size = all.length - cut;
    return this.take(all.subarray(0, cut), false);
  }

  end(): Promise<void> {
    const rest = Buffer.concat(this.#held, this.#size);
    this.#held = [];
    return this.take(rest, true);
  }
}

async function decompress(raw: Buffer, compression: 'gzip' | 'deflate', limit: number, available: number): Promise<Buffer> {
  if (raw.length === 0) throw httpError('INVALID_GZIP', 'the body is empty');
  const max = Math.max(1, Math.min(limit, available));
  try {
    if (raw.length <= INLINE_INFLATE_BYTES) {
      const cap = Math.min(max, raw.length * INLINE_RATIO);
      try {
        return await inflateWith(inline, raw, compression, cap);
      } catch (error) {
        if ((error as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE' || cap === max) throw error;
      }
    }
    return await inflateWith(pooled, raw, compression, max);
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === 'ERR_BUFFER_TOO_LARGE') throw available < limit ? httpError('OVERLOADED') : httpError('BODY_TOO_LARGE', limit);
    throw httpError('INVALID_GZIP', message);
  }
}

async function inflateWith(z: Inflaters, raw: Buffer, compression: 'gzip' | 'deflate', maxOutputLength: number): Promise<Buffer> {
  const options = { maxOutputLength };
  if (compression === 'gzip') return z.gzip(raw, options);
  try {
    return await z.inflate(raw, options);
  } catch (error) {
    if ((error as { code?: string }).code !== 'Z_DATA_ERROR') throw error;
    return z.inflateRaw(raw, options);
  }
}
