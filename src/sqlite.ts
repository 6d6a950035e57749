export { SqliteStore, type BackupOptions, type BackupProgress, type SqliteStoreOptions } from './stores/sqlite/store.js';
