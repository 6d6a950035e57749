/**
 * Zig-zag varints for any safe integer and for the sums and differences of two of them (up to ±2^55): Number
 * arithmetic while the value fits in 53 bits, BigInt beyond (rare: only huge jumps between timestamps or values).
 */
const TWO_53 = 2 ** 53;

/** A growable byte buffer. */
export class Writer {
  #bytes: Uint8Array;
  length = 0;

  /** `capacity`: the bytes to start with (it grows as needed). */
  constructor(capacity = 256) {
    this.#bytes = new Uint8Array(capacity);
  }

  byte(b: number): void {
    if (this.length === this.#bytes.length) this.#grow(1);
    this.#bytes[this.length++] = b;
  }

  bytes(data: Uint8Array): void {
    if (this.length + data.length > this.#bytes.length) this.#grow(data.length);
    this.#bytes.set(data, this.length);
    this.length += data.length;
  }

  /** An unsigned integer (a safe Number or a BigInt) as a varint. */
  unsigned(n: number | bigint): void {
    if (typeof n === 'bigint') {
      while (n >= 0x80n) {
        this.byte(Number(n & 0x7fn) | 0x80);
        n >>= 7n;
      }
      return this.byte(Number(n));
    }
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
  }

  /** A signed integer: zig-zag, so small magnitudes of either sign take few bytes. `n` may be a BigInt. */
  signed(n: number | bigint): void {
    if (typeof n === 'number' && Math.abs(n) < TWO_53 / 2) return this.unsigned(n >= 0 ? n * 2 : -n * 2 - 1);
    const big = BigInt(n);
    this.unsigned(big >= 0n ? big * 2n : -big * 2n - 1n);
  }

  done(): Uint8Array {
    return this.#bytes.slice(0, this.length);
  }

  #grow(extra: number): void {
    const next = new Uint8Array(Math.max(this.#bytes.length * 2, this.length + extra));
    next.set(this.#bytes.subarray(0, this.length));
    this.#bytes = next;
  }
}

/** Reads what Writer wrote; every read checks the end, so a truncated chunk throws instead of inventing values. */
export class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.offset >= this.bytes.length) throw new RangeError('chunk: truncated');
    return this.bytes[this.offset++] as number;
  }

  take(n: number): Uint8Array {
    if (this.offset + n > this.bytes.length) throw new RangeError('chunk: truncated');
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** An unsigned varint: a Number below 2^53, else a BigInt. */
  unsigned(): number | bigint {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
    let big = BigInt(n);
    let shift = 49n;
    for (;;) {
      const b = this.byte();
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return big < BigInt(TWO_53) ? Number(big) : big;
      shift += 7n;
      if (shift > 70n) throw new RangeError('chunk: varint too long');
    }
  }

  /** A zig-zag varint, as a Number when it is safe, else a BigInt. */
  signed(): number | bigint {
    const z = this.unsigned();
    if (typeof z === 'number') return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    const n = z & 1n ? -((z + 1n) >> 1n) : z >> 1n;
    return n >= -BigInt(Number.MAX_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
}

/** a - b exactly, as a Number when safe, else a BigInt. */
export function difference(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') {
    const d = a - b;
    if (Number.isSafeInteger(d)) return d;
  }
  const big = BigInt(a) - BigInt(b);
  return big >= -BigInt(Number.MAX_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** a + b exactly, as above. */
export function sum(a: number | bigint, b: number | bigint): number | bigint {
  return difference(a, typeof b === 'number' ? -b : -b);
}
