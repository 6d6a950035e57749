import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { explainMissing } from '../src/optional-peer.js';

describe('optional peer dependencies', () => {
  it('a missing driver is told with the store that needs it and the command that installs it', async () => {
    const missing = await import('better-sqlite3-is-not-installed' as string).catch((error: unknown) => error);
    const renamed = Object.assign(new Error(String((missing as Error).message).replace('better-sqlite3-is-not-installed', 'better-sqlite3')), { code: (missing as { code: string }).code });
    const told = explainMissing('better-sqlite3', renamed) as Error;
    assert.equal(told.message, "koa-kairosdb: SqliteStore needs the 'better-sqlite3' package, which is not installed; run: npm install better-sqlite3@12");
    assert.equal(told.cause, renamed);
    let required: unknown;
    try {
      createRequire(import.meta.url)('cassandra-driver-is-not-installed');
    } catch (error) {
      required = Object.assign(new Error(String((error as Error).message).replace('cassandra-driver-is-not-installed', 'cassandra-driver')), { code: (error as { code: string }).code });
    }
    assert.match((explainMissing('cassandra-driver', required) as Error).message, /CassandraStore .* needs the 'cassandra-driver' package.*npm install cassandra-driver@4/);
  });

  it("a missing package whose file is asked for (the explorer's uPlot) is told the same way", () => {
    let resolved: unknown;
    try {
      createRequire(import.meta.url).resolve('uplot-is-not-installed/dist/uPlot.iife.min.js');
    } catch (error) {
      resolved = Object.assign(new Error(String((error as Error).message).replace('uplot-is-not-installed', 'uplot')), { code: (error as { code: string }).code });
    }
    assert.match(String((resolved as Error).message), /'uplot\/dist\/uPlot.iife.min.js'/);
    assert.equal((explainMissing('uplot', resolved) as Error).message, "koa-kairosdb: the explorer page (routes.ui) needs the 'uplot' package, which is not installed; run: npm install uplot@1");
  });

  it('any other failure to load is passed on as it is', () => {
    const broken = Object.assign(new Error('The module was compiled against a different Node.js version'), { code: 'ERR_DLOPEN_FAILED' });
    assert.equal(explainMissing('better-sqlite3', broken), broken);
  });
});
