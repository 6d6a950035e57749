import type { Struct } from 'superstruct';

/** How a store keeps a value: the column family it belongs to. */
export type StorageKind = 'long' | 'double' | 'string' | 'bytes';

/** A value as stores keep it: a number for `long`/`double` (a BigInt for a `long` beyond ±(2^53−1)), a string, or bytes. */
export type StoredValue = number | bigint | string | Uint8Array;

/** A value type as the registry holds it: how to read it from JSON, store it and print it back. */
export interface ValueType<T = unknown> {
  /** Canonical name, as written in `type` fields and kept by stores. */
  readonly name: string;
  /** Result group of the read API (`number`, `text`, `complex`, or the type's own). */
  readonly group: string;
  /** How stores keep the encoded value. */
  readonly storage: StorageKind;
  /** The declared shape of the JSON value (with coercions, e.g. numeric strings). */
  readonly struct: Struct<T, unknown> | Struct<unknown, unknown>;
  /** Fast check and conversion of a JSON value; `undefined` when the value does not fit. */
  parse(json: unknown): T | undefined;
  /** Converts a parsed value to its stored form. */
  encode(value: T): StoredValue;
  /** Converts a stored value back. */
  decode(stored: StoredValue): T;
  /** The JSON form returned by reads. */
  toJSON(value: T): unknown;
}

/** What a host application gives `register()` for a custom type. */
export interface CustomTypeDefinition<T> {
  /** Type name used in `type` fields; must not be registered yet. */
  name: string;
  /** superstruct struct that describes (and may coerce) the JSON value. */
  struct: Struct<T, unknown>;
  /** Encodes a value to bytes for storage. */
  encode: (value: T) => Uint8Array;
  /**
   * Decodes stored bytes: a `Uint8Array` of its own (offset 0, its `buffer` exactly these bytes), so
   * `new DataView(bytes.buffer)` or `new Float64Array(bytes.buffer)` (a length of a multiple of 8) read just them. A
   * throw, or a value `toJSON` and JSON cannot write, answers the query 500 naming the type (logged once).
   */
  decode: (bytes: Uint8Array) => T;
  /** The JSON form for reads. @default the value itself */
  toJSON?: (value: T) => unknown;
  /** Result group in query responses. @default the type name */
  group?: string;
}

/** A custom type's `decode` or `toJSON` failed on a stored value (the query answers 500 naming the type). */
export class ValueTypeError extends Error {
  constructor(
    readonly typeName: string,
    /** Whether it is the first failure of this type in the process (logged; later ones are not). */
    readonly first: boolean,
    cause: unknown,
  ) {
    super(`Value type '${typeName}': decode or toJSON failed on a stored value: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ValueTypeError';
  }
}
