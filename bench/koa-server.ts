// The middleware under test: Koa + kairosdb() on a store named by argv[2] (discard, memory, sqlite).
import Koa from 'koa';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kairosdb, MemoryStore, type Store } from '../src/index.js';
import { SqliteStore } from '../src/sqlite.js';

const kind = process.argv[2] ?? 'discard';
const discard: Store = Object.assign(new MemoryStore(), { write: async () => {} });
const store: Store =
  kind === 'memory' ? new MemoryStore() : kind === 'sqlite' ? new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'bench-')), 'bench.db') }) : discard;
const app = new Koa();
app.use(kairosdb({ store }));
const server = app.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
process.on('SIGINT', () => process.exit(0));
