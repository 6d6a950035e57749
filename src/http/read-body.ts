import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { httpError } from '../errors.js';

/** Byte limits of one request body. */
export interface BodyLimits {
  readonly wire: number;
  readonly decompressed: number;
}

type Compression = 'gzip' | 'deflate' | undefined;

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);

/** Which decompression a request needs, from Content-Encoding, else Content-Type `application/gzip`. */
export function compressionOf(contentEncoding: string | undefined, contentType: string | undefined): Compression {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return 'gzip';
  if (encoding === 'deflate') return 'deflate';
  if (encoding !== '' && encoding !== 'identity') throw httpError('UNSUPPORTED_ENCODING', encoding);
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  return type === 'application/gzip' || type === 'application/x-gzip' ? 'gzip' : undefined;
}

/** Reads a request body, decompressing it, within the wire and decompressed limits. */
export async function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const compression = compressionOf(req.headers['content-encoding'], req.headers['content-type']);
  const declared = Number(req.headers['content-length']);
  if (declared > limits.wire) throw httpError('BODY_TOO_LARGE', limits.wire);
  const raw = await readStream(req, limits.wire);
  if (!compression) {
    if (raw.length > limits.decompressed) throw httpError('BODY_TOO_LARGE', limits.decompressed);
    return raw;
  }
  return decompress(raw, compression, limits.decompressed);
}

function readStream(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Error | undefined) => {
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
      if (size > limit) finish(httpError('BODY_TOO_LARGE', limit));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = () => finish(httpError('REQUEST_ABORTED'));
    const onClose = () => finish(req.complete ? undefined : httpError('REQUEST_ABORTED'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

async function decompress(raw: Buffer, compression: 'gzip' | 'deflate', limit: number): Promise<Buffer> {
  const options = { maxOutputLength: limit };
  try {
    if (compression === 'gzip') return await gunzip(raw, options);
    try {
      return await inflate(raw, options);
    } catch (error) {
      if ((error as { code?: string }).code !== 'Z_DATA_ERROR') throw error;
      return await inflateRaw(raw, options);
    }
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === 'ERR_BUFFER_TOO_LARGE') throw httpError('BODY_TOO_LARGE', limit);
    throw httpError('INVALID_GZIP', message);
  }
}
