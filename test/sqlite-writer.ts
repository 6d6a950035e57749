import { series } from '../src/store-api/conformance.js';
import { SqliteStore } from '../src/sqlite.js';

// A writer process for the concurrency test: path, writer tag, requests, points per request.
const [path = '', writer = '', requests = 0, points = 0] = process.argv.slice(2).map((a, i) => (i < 2 ? a : Number(a))) as [string, string, number, number];
const store = new SqliteStore({ path });
for (let r = 0; r < requests; r++) {
  const batch: [number, number][] = Array.from({ length: points }, (_, i) => [r * points + i, i]);
  await store.write([series('concurrent', { writer }, batch)]);
}
await store.close();
