import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { SqliteStore } from '../src/sqlite.js';
import { twoInstancesRollUp } from './rollups-instances.js';

it('two processes on one SQLite file: every roll-up period exactly once across a SIGKILL of the lease holder', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kairos-rollups-'));
  const path = join(dir, 'shared.db');
  const store = new SqliteStore({ path });
  try {
    const leaseMs = 3000;
    const intervalS = 4;
    const { periods, takeoverMs } = await twoInstancesRollUp({ store, args: ['sqlite', path, ''], series: 1000, samplingS: 2, intervalS, pollMs: 200, leaseMs });
    assert.ok(periods >= 6, `${periods} periods`);
    t.diagnostic(`${periods} periods rolled up, taken over ${takeoverMs} ms after the kill`);
    assert.ok(takeoverMs <= leaseMs + intervalS * 1000 + 2000, `taken over ${takeoverMs} ms after the kill`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
