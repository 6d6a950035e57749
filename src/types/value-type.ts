import type { Struct } from 'superstruct';

/** How a store keeps a value: the column family it belongs to. */
export type StorageKind = 'long' | 'double' | 'string' | 'bytes';

/** A value as stores keep it: a number for `long`/`double`, a string, or bytes. */
export type StoredValue = number | string | Uint8Array;

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
  /** Decodes stored bytes. */
  decode: (bytes: Uint8Array) => T;
  /** The JSON form for reads. @default the value itself */
  toJSON?: (value: T) => unknown;
  /** Result group in query responses. @default the type name */
  group?: string;
}
