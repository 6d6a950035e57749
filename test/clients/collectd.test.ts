// Debian's collectd 5.12 writes to the example server through write_tsdb (KairosDB's telnet protocol) and
// write_graphite (Graphite plaintext); the points are read back with KairosDB's query.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** In CI (.ci/run sets it and installs collectd-core) a missing collectd fails instead of being skipped. */
const required = process.env.CLIENTS_REQUIRED === '1';
const COLLECTD = '/usr/sbin/collectd';
const installed = spawnSync(COLLECTD, ['-h']).status !== null && spawnSync('test', ['-x', COLLECTD]).status === 0;
const SKIP = 'collectd is not installed (apt-get install collectd-core)';

describe("Debian's collectd 5.12 writes through telnet and Graphite", { skip: installed || required ? false : SKIP }, () => {
  let server: ChildProcess;
  let collectd: ChildProcess | undefined;
  let url = '';
  const dir = mkdtempSync(join(tmpdir(), 'kairosdb-collectd-'));
  before(async () => {
    if (!installed) assert.fail(`CLIENTS_REQUIRED=1 but ${SKIP}`);
    server = spawn(process.execPath, ['--import', 'tsx', 'example-app/server.ts'], { cwd: root, env: { ...process.env, PORT: '0', TELNET_PORT: '0', GRAPHITE_PORT: '0', STORE: 'memory', LOG_LEVEL: 'warn' } });
    const ports = await new Promise<{ http: string; telnet: string; graphite: string }>((resolve, reject) => {
      let out = '';
      server.stdout?.on('data', (chunk: Buffer) => {
        out += chunk;
        const match = /listening on http:\/\/localhost:(\d+).*telnet on 127\.0\.0\.1:(\d+).*graphite on 127\.0\.0\.1:(\d+)/.exec(out);
        if (match) resolve({ http: match[1] as string, telnet: match[2] as string, graphite: match[3] as string });
      });
      server.once('exit', (code) => reject(new Error(`example server exited with ${code}: ${out}`)));
    });
    url = `http://127.0.0.1:${ports.http}`;
    const conf = join(dir, 'collectd.conf');
    writeFileSync(
      conf,
      `Hostname "ci-host"
FQDNLookup false
Interval 1
BaseDir "${dir}"
PIDFile "${join(dir, 'collectd.pid')}"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin load
LoadPlugin memory
LoadPlugin write_tsdb
LoadPlugin write_graphite
<Plugin write_tsdb>
  <Node "kairosdb">
    Host "127.0.0.1"
    Port "${ports.telnet}"
    HostTags "env=ci"
  </Node>
</Plugin>
<Plugin write_graphite>
  <Node "kairosdb">
    Host "127.0.0.1"
    Port "${ports.graphite}"
    Protocol "tcp"
    Prefix "collectd."
  </Node>
</Plugin>
`,
    );
    collectd = spawn(COLLECTD, ['-f', '-C', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  });
  after(() => {
    collectd?.kill('SIGTERM');
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Polls a query until it has points (collectd writes every second, its writers flush when their buffer fills or on the next interval). */
  async function pointsOf(metric: string, tags: Record<string, string> = {}): Promise<{ tags: Record<string, string[]>; values: number[][] }> {
    for (const until = Date.now() + 30_000; Date.now() < until; ) {
      const res = await fetch(`${url}/api/v1/datapoints/query`, { method: 'POST', body: JSON.stringify({ start_relative: { value: 5, unit: 'minutes' }, metrics: [{ name: metric, tags }] }) });
      const result = ((await res.json()) as { queries: { results: { tags: Record<string, string[]>; values: number[][] }[] }[] }).queries[0]?.results[0];
      if (result && result.values.length > 0) return result;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const names = await (await fetch(`${url}/api/v1/metricnames`)).text();
    throw new Error(`no points of ${metric} within 30 s; metric names: ${names}`);
  }

  it('write_tsdb (telnet put): load.load.shortterm with the fqdn and HostTags tags', async () => {
    const result = await pointsOf('load.load.shortterm');
    assert.deepEqual(result.tags.fqdn, ['ci-host']);
    assert.deepEqual(result.tags.env, ['ci']);
    assert.ok(result.values.every(([t, v]) => Math.abs((t as number) - Date.now()) < 120_000 && typeof v === 'number'));
  });

  it('write_graphite (plaintext): collectd.ci-host.memory.memory-used becomes collectd.memory.memory-used with host=ci-host', async () => {
    const result = await pointsOf('collectd.memory.memory-used', { host: 'ci-host' });
    assert.deepEqual(result.tags.type, ['graphite']);
    assert.ok(result.values.every(([, v]) => (v as number) > 0));
  });
});
