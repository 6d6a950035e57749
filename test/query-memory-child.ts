// Child of query-memory.test.ts (run with --expose-gc): prints the heap growth of a 1,000,000-point sum query.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryBudget } from '../src/query/budget.js';
import { runQuery } from '../src/query/execute.js';
import { parseQuery } from '../src/query/parse.js';
import { series } from '../src/store-api/conformance.js';
import { SqliteStore } from '../src/sqlite.js';
import { TypeRegistry } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'koa-kairosdb-memory-'));
const store = new SqliteStore({ path: join(dir, 'm.db') });
const T = Date.UTC(2026, 0, 1);
const total = 1_000_000;
for (let r = 0; r < total / 10_000; r++) {
  const points: [number, number][] = Array.from({ length: 10_000 }, (_, i) => [T + (r * 10_000 + i) * 1000, i % 100]);
  await store.write([series('mem', { h: 'a' }, points)]);
}
const parsed = parseQuery({ start_absolute: T, end_absolute: T + total * 1000, metrics: [{ name: 'mem', aggregators: [{ name: 'sum', sampling: { value: 1, unit: 'hours' } }] }] }, T + total * 1000);
if (!parsed.ok) throw new Error(parsed.errors.join());
globalThis.gc?.();
const baseline = process.memoryUsage().heapUsed;
let peak = baseline;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 2);
const result = await runQuery(parsed.spec, { store, types: new TypeRegistry(), now: T + total * 1000, budget: new QueryBudget({ maxPoints: 10_000_000, maxOutputPoints: 1_000_000, maxGroups: 10_000, maxResponseBytes: 2 ** 26, timeoutMs: 60_000 }) });
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().heapUsed);
const first = result.queries[0]!;
const values = first.results[0]!.values;
const sum = values.reduce((s, v) => s + (v[1] as number), 0);
await store.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ sampleSize: first.sample_size, outputs: values.length, sum, growth: peak - baseline }));
