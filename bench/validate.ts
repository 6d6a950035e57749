// In-process throughput of validate + normalise (no HTTP): `npx tsx bench/validate.ts`.
import { createIngest } from '../src/ingest/ingest.js';
import { TypeRegistry } from '../src/index.js';
import { manyMetrics, oneMetric, singles } from './bodies.js';

const ingest = createIngest({ types: new TypeRegistry(), defaultTtl: 0, maxErrors: 100, maxJsonDepth: 64 });
const shapes = { '1 metric × 10,000 points': oneMetric(), '1,000 metrics × 10 points': manyMetrics(), '10,000 single points': singles() };
for (const [label, text] of Object.entries(shapes)) {
  const runs: number[] = [];
  for (let round = 0; round < 7; round++) {
    const body = Array.from({ length: 20 }, () => JSON.parse(text));
    const started = performance.now();
    for (const b of body) if (!ingest(b).ok) throw new Error('invalid bench body');
    runs.push((20 * 10_000) / ((performance.now() - started) / 1000));
  }
  runs.sort((a, b) => a - b);
  console.log(`${label}: ${(runs[3]! / 1e6).toFixed(2)} M datapoints/s (median of 7)`);
}
