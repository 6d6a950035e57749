import { MemoryStore } from '../src/index.js';
import { SqliteStore } from '../src/sqlite.js';
import { rollupsSuite } from './rollups-suite.js';

rollupsSuite('MemoryStore', () => new MemoryStore());
rollupsSuite('SqliteStore', () => new SqliteStore({ path: ':memory:', purgeIntervalMs: 0 }));
