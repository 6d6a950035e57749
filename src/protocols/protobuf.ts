/**
 * A protocol buffers reader for the few messages of Prometheus' remote write: every length is checked against the
 * bytes left (a hostile length cannot make it read past the end or loop), so reading costs what the body holds.
 */
export class ProtobufReader {
  #at: number;

  constructor(
    readonly bytes: Uint8Array,
    from = 0,
    readonly end = bytes.length,
  ) {
    this.#at = from;
  }

  get done(): boolean {
    return this.#at >= this.end;
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const key = this.varint();
    return { field: Math.floor(key / 8), wire: key % 8 };
  }

  /** An unsigned varint of up to 64 bits, as a number (exact up to 2^53); a negative int64 comes back as 2^64 − n. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.#at >= this.end) throw new ProtobufError('a varint runs past the end');
      const byte = this.bytes[this.#at++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new ProtobufError('a varint longer than 10 bytes');
  }

  /** An int64 field (two's complement), as a number. */
  int64(): number {
    const value = this.varint();
    return value >= 2 ** 63 ? value - 2 ** 64 : value;
  }

  double(): number {
    if (this.#at + 8 > this.end) throw new ProtobufError('a double runs past the end');
    const { bytes } = this;
    const value = Buffer.isBuffer(bytes) ? bytes.readDoubleLE(this.#at) : new DataView(bytes.buffer, bytes.byteOffset + this.#at, 8).getFloat64(0, true);
    this.#at += 8;
    return value;
  }

  /** A length-delimited field's bytes as a reader of their own. */
  message(): ProtobufReader {
    const length = this.varint();
    if (length > this.end - this.#at) throw new ProtobufError('a length runs past the end');
    const inner = new ProtobufReader(this.bytes, this.#at, this.#at + length);
    this.#at += length;
    return inner;
  }

  string(): string {
    const length = this.varint();
    if (length > this.end - this.#at) throw new ProtobufError('a length runs past the end');
    const from = this.#at;
    this.#at += length;
    const { bytes } = this;
    return Buffer.isBuffer(bytes) ? bytes.toString('utf8', from, from + length) : Buffer.from(bytes.buffer, bytes.byteOffset + from, length).toString('utf8');
  }

  /** Skips a field of the given wire type. */
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.#advance(8);
    else if (wire === 2) this.message();
    else if (wire === 5) this.#advance(4);
    else throw new ProtobufError(`wire type ${wire} is not supported`);
  }

  #advance(n: number): void {
    if (this.#at + n > this.end) throw new ProtobufError('a field runs past the end');
    this.#at += n;
  }
}

/** A protocol buffers writer of the field kinds Prometheus' messages have (a read response; tests build requests with it). */
export class ProtobufWriter {
  #chunks: Buffer[] = [];

  varint(n: number): this {
    const bytes: number[] = [];
    let v = n < 0 ? 2 ** 64 + n : n;
    while (v >= 0x80) {
      bytes.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
    this.#chunks.push(Buffer.from(bytes));
    return this;
  }

  string(field: number, text: string): this {
    const bytes = Buffer.from(text, 'utf8');
    this.varint(field * 8 + 2).varint(bytes.length);
    this.#chunks.push(bytes);
    return this;
  }

  double(field: number, value: number): this {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(value);
    this.varint(field * 8 + 1);
    this.#chunks.push(bytes);
    return this;
  }

  int64(field: number, value: number): this {
    return this.varint(field * 8).varint(value);
  }

  message(field: number, write: (inner: ProtobufWriter) => void): this {
    const inner = new ProtobufWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  /** A length-delimited field of bytes already encoded (a message). */
  bytes(field: number, bytes: Buffer): this {
    this.varint(field * 8 + 2).varint(bytes.length);
    this.#chunks.push(bytes);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

/** A body that is not the protocol buffer it should be. */
export class ProtobufError extends Error {}
