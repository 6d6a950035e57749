import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Koa from 'koa';
import { kairosdb, MemoryStore } from '../../src/index.js';

/** In CI (.ci/run sets it and installs Debian's prometheus) a missing Prometheus fails instead of being skipped. */
const required = process.env.CLIENTS_REQUIRED === '1';
const installed = spawnSync('prometheus', ['--version']).status === 0;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A mount with /metrics on, after one write and one query. */
async function mountedApp() {
  const middleware = kairosdb({ store: new MemoryStore(), routes: { metrics: true, prometheus: true } });
  const app = new Koa();
  app.use(middleware);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (path: string, body: unknown) => fetch(`${url}/api/v1${path}`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal((await post('/datapoints', [{ name: 'cpu', tags: { host: 'a' }, datapoints: [[1, 1], [2, 2], [3, 3]] }])).status, 204);
  assert.equal((await post('/datapoints/query', { start_absolute: 0, metrics: [{ name: 'cpu' }] })).status, 200);
  return { server, url };
}

describe("Debian's Prometheus 2.42 scrapes GET /metrics", () => {
  it("promtool finds the exposition well-formed and lint-free", async (t) => {
    if (!installed && !required) return t.skip('prometheus is not installed (apt-get install prometheus)');
    const { server, url } = await mountedApp();
    try {
      const text = await (await fetch(`${url}/api/v1/metrics`)).text();
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
      assert.equal(`${lint.stdout}${lint.stderr}`.trim(), '');
    } finally {
      server.close();
    }
  });

  it('a real Prometheus server scrapes it: the target is up and the ingest counter is queryable', async (t) => {
    if (!installed && !required) return t.skip('prometheus is not installed (apt-get install prometheus)');
    const { server, url } = await mountedApp();
    const dir = mkdtempSync(join(tmpdir(), 'kairosdb-prom-'));
    const port = await freePort();
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: kairosdb\n    metrics_path: /api/v1/metrics\n    static_configs:\n      - targets: ['${url.slice('http://'.length)}']\n` +
        `remote_write:\n  - url: ${url}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\n` +
        `remote_read:\n  - url: ${url}/api/v1/read\n    read_recent: true\n`,
    );
    const prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    prometheus.stderr.on('data', (chunk: Buffer) => (log = (log + chunk).slice(-4000)));
    const value = async (query: string) => {
      const answer = (await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as { data: { result: { value: [number, string] }[] } };
      return answer.data.result[0]?.value[1];
    };
    try {
      let up: string | undefined;
      let ingested: string | undefined;
      for (const until = Date.now() + 30_000; Date.now() < until && (up !== '1' || ingested !== '3'); ) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        try {
          up = await value('up{job="kairosdb"}');
          ingested = await value('koa_kairosdb_ingested_datapoints_total');
        } catch {
          // Prometheus still starting.
        }
      }
      assert.equal(up, '1', log);
      assert.equal(ingested, '3', log);
      assert.equal(await value('koa_kairosdb_http_requests_total{route="/datapoints/query",status="200"}'), '1');
      assert.equal(await value('koa_kairosdb_store_series'), '1');
      // remote_write: Prometheus sends what it scraped back to the mount; KairosDB's query finds it.
      let written: { tags: Record<string, string[]>; values: number[][] } | undefined;
      for (const until = Date.now() + 30_000; Date.now() < until && !written?.values.length; ) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const res = await fetch(`${url}/api/v1/datapoints/query`, { method: 'POST', body: JSON.stringify({ start_relative: { value: 5, unit: 'minutes' }, metrics: [{ name: 'up', tags: { job: ['kairosdb'] } }] }) });
        written = ((await res.json()) as { queries: { results: { tags: Record<string, string[]>; values: number[][] }[] }[] }).queries[0]?.results[0];
      }
      assert.ok(written && written.values.length > 0, log);
      assert.deepEqual(written.tags.instance, [url.slice('http://'.length)]);
      assert.ok(written.values.every(([, v]) => v === 1));
      // remote_read: a series only the mount holds (written as KairosDB JSON), found by PromQL in Prometheus.
      const now = Date.now();
      const push = await fetch(`${url}/api/v1/datapoints`, { method: 'POST', body: JSON.stringify([{ name: 'kairos_only', tags: { host: 'a', dc: 'x' }, datapoints: [[now - 10_000, 41], [now - 1000, 42]] }, { name: 'kairos_only', tags: { host: 'b', dc: 'y' }, datapoints: [[now - 1000, 7]] }]) });
      assert.equal(push.status, 204);
      assert.equal(await value('kairos_only{host="a"}'), '42');
      assert.equal(await value('sum(kairos_only{host=~"a|b"})'), '49');
      assert.equal(await value('count(kairos_only{dc!="x"})'), '1');
      assert.equal(await value('sum(kairos_only{host=~"[a-b]+", dc!~"(?i)Y"})'), '42');
      assert.equal(await value('max_over_time(kairos_only{host="a"}[1m])'), '42');
    } finally {
      prometheus.kill('SIGTERM');
      await new Promise((resolve) => prometheus.once('exit', resolve));
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
