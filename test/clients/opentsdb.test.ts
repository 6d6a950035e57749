// A published OpenTSDB client, opentsdb-client (PyPI), pushes through OpenTSDB's POST /api/put; the points are read
// back with KairosDB's query.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipPackage, runPython, serveMount } from './python.js';

const required = process.env.CLIENTS_REQUIRED === '1';
const VERSION = '0.6.1';

describe(`opentsdb-client ${VERSION} (PyPI) puts through /api/put`, () => {
  it('stores the good points of a batch, and tells the client which failed (?details)', async (t) => {
    const { site, why } = pipPackage('opentsdb-client', VERSION, 'opentsdb', 'opentsdb');
    if (why && !required) return t.skip(why);
    assert.equal(why, undefined, why);
    const { base, server } = await serveMount({ routes: { opentsdb: true } });
    try {
      const run = await runPython('opentsdb/put.py', [base], site);
      assert.equal(run.status, 0, run.out);
      assert.match(run.out, /statuses 2 1/, run.out);
      const res = await fetch(`${base}/datapoints/query`, { method: 'POST', body: JSON.stringify({ start_absolute: 0, metrics: [{ name: 'sys.cpu.user', group_by: [{ name: 'tag', tags: ['host'] }] }] }) });
      const results = ((await res.json()) as { queries: { results: { tags: Record<string, string[]>; values: unknown[][] }[] }[] }).queries[0]?.results ?? [];
      assert.deepEqual(results.map((r) => [r.tags.host, r.tags.env, r.values]), [[['web1'], ['ci'], [[1_700_000_000_000, 42.5]]], [['web2'], ['ci'], [[1_700_000_000_000, 40]]]]);
    } finally {
      server.close();
    }
  });
});
