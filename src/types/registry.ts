import { validate } from 'superstruct';
import { builtin } from './builtins.js';
import type { CustomTypeDefinition, ValueType } from './value-type.js';

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
    if (typeof name !== 'string' || name === '') throw new TypeError('A value type needs a non-empty name');
    if (this.#types.has(name)) throw new TypeError(`Value type '${name}' is already registered`);
    if (typeof encode !== 'function' || typeof decode !== 'function') {
      throw new TypeError(`Value type '${name}' needs encode and decode functions`);
    }
    const valueType: ValueType<T> = {
      name,
      group: definition.group ?? name,
      storage: 'bytes',
      struct,
      parse: (json) => {
        const [error, value] = validate(json, struct, { coerce: true });
        return error ? undefined : value;
      },
      encode,
      decode: (stored) => decode(stored as Uint8Array),
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
