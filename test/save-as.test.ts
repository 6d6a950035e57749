import { MemoryStore } from '../src/index.js';
import { SqliteStore } from '../src/sqlite.js';
import { saveAsSuite } from './save-as-suite.js';

saveAsSuite('MemoryStore', () => new MemoryStore());
saveAsSuite('SqliteStore', () => new SqliteStore({ path: ':memory:', purgeIntervalMs: 0 }));
