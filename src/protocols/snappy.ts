import { httpError } from '../errors.js';
import { requirePeer } from '../optional-peer.js';

interface Snappy {
  uncompressSync(input: Buffer, options: { asBuffer: true }): Buffer;
  compressSync(input: Buffer): Buffer;
}

/**
 * snappy's block format (what Prometheus sends and reads). The decoder never allocates more than `max` bytes: the
 * length a block declares is read and checked first, and the output must have exactly that length (some decoders
 * accept a declared length that is too long). Loads the `snappy` package (an optional peer) when called.
 */
export function snappyCodec(): { decode: (raw: Buffer, max: number) => Buffer; encode: (bytes: Buffer) => Buffer } {
  const snappy = requirePeer<Snappy>('snappy');
  const decode = (raw: Buffer, max: number) => {
    const declared = declaredLength(raw);
    if (declared === undefined) throw httpError('INVALID_SNAPPY', 'no length at its start');
    if (declared > max) throw httpError('BODY_TOO_LARGE', max);
    let out: Buffer;
    try {
      out = snappy.uncompressSync(raw, { asBuffer: true });
    } catch (error) {
      throw httpError('INVALID_SNAPPY', (error as Error).message);
    }
    if (out.length !== declared) throw httpError('INVALID_SNAPPY', `it declares ${declared} bytes and holds ${out.length}`);
    return out;
  };
  return { decode, encode: (bytes) => snappy.compressSync(bytes) };
}

/** The uncompressed length at the start of a snappy block (a varint of at most 32 bits). */
function declaredLength(raw: Buffer): number | undefined {
  let value = 0;
  for (let i = 0; i < 5 && i < raw.length; i++) {
    const byte = raw[i] as number;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return value <= 0xffff_ffff ? value : undefined;
  }
  return undefined;
}
