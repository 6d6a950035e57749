// Child of stream-answer.test.ts (run with --expose-gc): serves a 1,000,000-point series from SQLite and reads it raw
// over HTTP, discarding the bytes as they come; prints the peak heap growth.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Koa from 'koa';
import { kairosdb } from '../src/index.js';
import { series } from '../src/store-api/conformance.js';
import { SqliteStore } from '../src/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'koa-kairosdb-stream-'));
const store = new SqliteStore({ path: join(dir, 's.db'), compactIntervalMs: 0 });
const T = Date.UTC(2026, 0, 1);
const total = 1_000_000;
for (let r = 0; r < total / 10_000; r++) {
  await store.write([series('raw', { h: 'a' }, Array.from({ length: 10_000 }, (_, i): [number, number] => [T + (r * 10_000 + i) * 1000, i % 100]), { storage: 'double' })]);
}
await store.compact();
const app = new Koa();
app.use(kairosdb({ store, maxQueryOutputPoints: 2_000_000 }));
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
globalThis.gc?.();
const baseline = process.memoryUsage().heapUsed;
let peak = baseline;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 2);
const body = JSON.stringify({ start_absolute: T, end_absolute: T + total * 1000, metrics: [{ name: 'raw' }] });
let bytes = 0;
let commas = 0;
await new Promise<void>((resolve, reject) => {
  const req = request({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', method: 'POST', path: '/api/v1/datapoints/query', headers: { 'content-type': 'application/json' } }, (res) => {
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      for (const b of chunk) if (b === 0x5d) commas++; // one ']' per value, plus 5: group_by, the tag's values, values, results, queries
    });
    res.on('end', resolve);
    res.on('error', reject);
  });
  req.end(body);
});
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().heapUsed);
server.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ values: commas - 5, bytes, growth: peak - baseline }));
