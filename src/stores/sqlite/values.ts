import { fromDriverBytes } from '../../store-api/bytes.js';
import type { StorageKind, StoredValue } from '../../types/value-type.js';

/** A value of the per-point layout's `value` column, as the store's storage kind. */
export function fromSqlite(value: unknown, storage: StorageKind): StoredValue {
  if (storage === 'bytes') return fromDriverBytes(value);
  if (storage === 'string') return value as string;
  return Number(value);
}
