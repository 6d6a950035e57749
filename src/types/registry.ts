import { validate } from 'superstruct';
import { optionError } from '../option-keys.js';
import { builtin } from './builtins.js';
import type { CustomTypeDefinition, ValueType } from './value-type.js';

const TYPE_NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
/** Result groups of the built-in types: a custom type in one of them would be aggregated and printed as a built-in. */
const BUILT_IN_GROUPS = new Set(Object.values(builtin).map((t) => t.group));

/** The value types one middleware instance accepts: the built-ins plus those the host registers. */
export class TypeRegistry {
  readonly #types = new Map<string, ValueType>();

  constructor() {
    for (const t of Object.values(builtin)) this.#types.set(t.name, t);
    this.#types.set('complex', builtin.complex);
  }

  /** Adds a custom type; a name that is already registered throws a `TypeError`. */
  register<T>(definition: CustomTypeDefinition<T>): ValueType<T> {
    const { name, struct, encode, decode } = definition;
    if (typeof name !== 'string' || !TYPE_NAME.test(name)) {
      throw optionError(`Value type name ${JSON.stringify(name)} must be lower case letters, digits, '-', '_' or '.', starting with a letter (at most 64)`);
    }
    if (this.#types.has(name)) throw optionError(`Value type '${name}' is already registered`);
    const group = definition.group ?? name;
    if (BUILT_IN_GROUPS.has(group)) {
      throw optionError(`Value type '${name}' cannot use the result group '${group}': number, text and complex belong to the built-in types`);
    }
    if (typeof group !== 'string' || !TYPE_NAME.test(group)) throw optionError(`Value type '${name}': group ${JSON.stringify(group)} must be a name like a type's`);
    if (typeof encode !== 'function' || typeof decode !== 'function') {
      throw optionError(`Value type '${name}' needs encode and decode functions`);
    }
    const valueType: ValueType<T> = {
      name,
      group,
      storage: 'bytes',
      struct,
      parse: (json) => {
        const [error, value] = validate(json, struct, { coerce: true });
        return error ? undefined : value;
      },
      encode,
      // Bytes of its own, at offset 0 of a buffer of exactly their length: stores hand out views into shared buffers
      // (a driver's pool, a batch), and `new Float64Array(bytes.buffer)` read other values there.
      decode: (stored) => decode(Uint8Array.from(stored as Uint8Array)),
      toJSON: definition.toJSON ?? ((value) => value),
    };
    this.#types.set(name, valueType as ValueType);
    return valueType;
  }

  /** The type registered under a name or alias. */
  get(name: string): ValueType | undefined {
    return this.#types.get(name);
  }

  /** Every registered name, aliases included. */
  names(): string[] {
    return [...this.#types.keys()];
  }
}
