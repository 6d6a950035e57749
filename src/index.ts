export { kairosdb, type KairosdbMiddleware } from './http/middleware.js';
export type { AccessRequest, DefaultCassandraOptions, KairosdbOptions, Logger, RequestEvent, RollupOptions, RouteGroup, StatisticsOptions } from './options.js';
export { ERRORS, KairosHttpError, type ErrorCode } from './errors.js';
export { TypeRegistry } from './types/registry.js';
export type { Complex } from './types/builtins.js';
export type { CustomTypeDefinition, StorageKind, StoredValue, ValueType } from './types/value-type.js';
export type {
  Coordination,
  MetadataStore,
  PointPage,
  SeriesQuery,
  SeriesRead,
  SeriesWrite,
  Store,
  StoreCapabilities,
  TagFilter,
  Tags,
} from './store-api/contract.js';
export { StoreUnavailableError, isUnavailable } from './store-api/unavailable.js';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js';
export { exportData, type ExportOptions } from './transfer/export.js';
export { importData, ImportError, type ImportOptions } from './transfer/import.js';
export type { TransferProgress } from './transfer/progress.js';
export type { LineListenerOptions } from './protocols/lines.js';
export type { GraphiteListenerOptions } from './protocols/listeners.js';
export type { GraphiteMapping } from './protocols/graphite.js';
