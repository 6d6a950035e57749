// Heap per point and write rate of MemoryStore as it grows (#14): W1 (1,000 series × 10 new points per write) and
// W2 (10 series × 1,000), in process, no HTTP. `node --expose-gc --import tsx bench/memory-store.ts [points]`.
import { MemoryStore } from '../src/index.js';
import type { SeriesWrite } from '../src/store-api/contract.js';

const total = Number(process.argv[2] ?? 5_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

async function run(label: string, seriesCount: number, perSeries: number): Promise<void> {
  const store = new MemoryStore();
  const tags = Array.from({ length: seriesCount }, (_, i) => Object.freeze({ host: `h${i}`, dc: 'dc1' }));
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const rates: number[] = [];
  let written = 0;
  let t = 1_700_000_000_000;
  while (written < total) {
    const started = performance.now();
    let inRound = 0;
    while (inRound < 200_000) {
      const series: SeriesWrite[] = tags.map((tagSet) => ({
        metric: 'm', tags: tagSet, type: 'double', storage: 'double', ttl: 0,
        timestamps: Array.from({ length: perSeries }, (_, k) => t + k * 1000),
        values: Array.from({ length: perSeries }, (_, k) => k / 7),
      }));
      await store.write(series);
      t += perSeries * 1000;
      inRound += seriesCount * perSeries;
    }
    written += inRound;
    rates.push(inRound / ((performance.now() - started) / 1000));
  }
  gc?.();
  const perPoint = (process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - before) / written;
  const first = rates[0] as number;
  const last = rates[rates.length - 1] as number;
  console.log(`${label}: ${written} points, ${perPoint.toFixed(1)} B/point of heap+buffers, rate first ${(first / 1e6).toFixed(2)} M/s, last ${(last / 1e6).toFixed(2)} M/s (${(last / first).toFixed(2)})`);
}

await run('W1 1,000 series × 10', 1000, 10);
await run('W2 10 series × 1,000', 10, 1000);
