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

/** Reads a request body, decompressing it, within the wire and decompressed limits, the time limit and the byte budget. */
export async function readBody(req: IncomingMessage, reading: BodyReading): Promise<Buffer> {
  const { limits, admission } = reading;
  const compression = compressionOf(req.headers['content-encoding'], req.headers['content-type'], reading.snappy !== undefined);
  const declared = Number(req.headers['content-length']);
  if (declared > limits.wire) throw httpError('BODY_TOO_LARGE', limits.wire);
  if (declared > admission.available) throw httpError('OVERLOADED');
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
  const { limits, admission, ticket, timeoutMs, rate } = reading;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const started = performance.now();
    const finish = (error: Error | undefined) => {
      clearTimeout(timer);
      clearInterval(pace);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error) {
        req.pause();
        reject(error);
      } else {
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      reading.received.bytes = size;
      if (size > limits.wire) return finish(httpError('BODY_TOO_LARGE', limits.wire));
      try {
        admission.reserve(chunk.length, ticket);
      } catch (error) {
        return finish(error as Error);
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = () => finish(httpError('REQUEST_ABORTED'));
    const onClose = () => finish(req.complete ? undefined : httpError('REQUEST_ABORTED'));
    const timer = setTimeout(() => finish(httpError('BODY_TIMEOUT', timeoutMs)), timeoutMs);
    const pace = rate.minBytesPerSecond > 0 ? setInterval(checkRate, 1000) : undefined;
    function checkRate(): void {
      const seconds = (performance.now() - started) / 1000;
      if (seconds * 1000 >= rate.graceMs && size / seconds < rate.minBytesPerSecond) finish(httpError('BODY_TOO_SLOW', rate.minBytesPerSecond));
    }
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
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
