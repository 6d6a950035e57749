import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

describe('query memory', () => {
  it('sums 1,000,000 raw points to hours with heap growth far below holding the points', () => {
    const child = fileURLToPath(new URL('./query-memory-child.ts', import.meta.url));
    const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', child], { encoding: 'utf8' }));
    assert.equal(out.sampleSize, 1_000_000);
    assert.equal(out.outputs, Math.ceil(1_000_000 / 3600));
    assert.equal(out.sum, 1_000_000 * 49.5);
    // Holding the raw points as [ts, value] pairs costs about 1,000,000 × 50 bytes ≈ 50 MB.
    assert.ok(out.growth < 20 * 1024 * 1024, `heap grew by ${(out.growth / 2 ** 20).toFixed(1)} MiB`);
    console.log(`heap growth during the 1,000,000-point query: ${(out.growth / 2 ** 20).toFixed(1)} MiB`);
  });
});
