import type { StoredValue } from '../types/value-type.js';

/** A stored value as a driver binds it: bytes as a Buffer over the same memory, others unchanged. */
export function toDriverValue(value: StoredValue): number | string | Buffer {
  if (!(value instanceof Uint8Array) || Buffer.isBuffer(value)) return value as number | string | Buffer;
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Bytes a driver returned (a Buffer) as a plain Uint8Array over the same memory. */
export function fromDriverBytes(value: unknown): Uint8Array {
  const buffer = value as Buffer;
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
