// The official Python client of InfluxDB (influxdb-client, PyPI) writes through POST /api/v2/write; the points are
// read back with KairosDB's query.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipPackage, runPython, serveMount } from './python.js';

const required = process.env.CLIENTS_REQUIRED === '1';
const VERSION = '1.50.0';

describe(`influxdb-client ${VERSION} (PyPI) writes Influx line protocol`, () => {
  it('writes points, integers, booleans and strings through /api/v2/write, and gets a 400 for a bad line', async (t) => {
    const { site, why } = pipPackage('influxdb-client', VERSION, 'influxdb_client', 'influx');
    if (why && !required) return t.skip(why);
    assert.equal(why, undefined, why);
    const { base, server } = await serveMount({ routes: { influx: true } });
    try {
      const run = await runPython('influx/write.py', [base], site);
      assert.equal(run.status, 0, run.out);
      assert.match(run.out, /bad line refused: 400/);
      const query = async (metric: string) => {
        const body = JSON.stringify({ start_absolute: 0, metrics: [{ name: metric }] });
        const res = await fetch(`${base}/datapoints/query`, { method: 'POST', body });
        return ((await res.json()) as { queries: { results: { tags: Record<string, string[]>; values: unknown[][] }[] }[] }).queries[0]?.results[0];
      };
      assert.deepEqual((await query('cpu.usage'))?.values, [[1_700_000_000_000, 12.5]]);
      assert.deepEqual((await query('cpu.cores'))?.values, [[1_700_000_000_000, 8]]);
      const used = await query('mem.used');
      assert.deepEqual(used?.tags.host, ['web1', 'web2']);
      assert.deepEqual(used?.values, [[1_700_000_001_000, 1024], [1_700_000_001_000, 2048]]);
      assert.deepEqual((await query('app.up'))?.values, [[1_700_000_000_000, 1]]);
      assert.deepEqual((await query('app.state'))?.values, [[1_700_000_000_000, 'ok']]);
    } finally {
      server.close();
    }
  });
});


