import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readAll } from '../src/store-api/conformance.js';
import { SqliteStore } from '../src/sqlite.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'koa-kairosdb-example-'));
const dbPath = join(dir, 'metrics.db');
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
const seed = readFileSync(new URL('./fixtures/seed-example-body.json', import.meta.url), 'utf8');

/** Starts the example server on a free port with SQLite in a temp dir; resolves with its URL. */
function start(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'example-app/server.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', STORE: 'sqlite', SQLITE_PATH: dbPath, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /listening on (http:\/\/localhost:\d+)/.exec(out);
      if (match) resolve({ url: match[1] as string, child });
    });
    child.once('exit', (code) => reject(new Error(`example server exited with ${code}: ${out}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('example server (end to end, SQLite)', () => {
  it('stores the seed body sent plain and gzipped, and keeps it across a restart', async () => {
    const first = await start();
    const plain = await fetch(`${first.url}/api/v1/datapoints`, { method: 'POST', body: seed });
    assert.equal(plain.status, 204);
    const renamed = seed.replaceAll('"name": "', '"name": "gz.');
    const gz = await fetch(`${first.url}/api/v1/datapoints`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/gzip' },
      body: gzipSync(renamed),
    });
    assert.equal(gz.status, 204);
    const geo = await fetch(`${first.url}/api/v1/datapoints`, {
      method: 'POST',
      body: JSON.stringify([{ name: 'pos', tags: { car: '1' }, type: 'geo-point', datapoints: [[1, { lat: 95, lon: 0 }]] }]),
    });
    assert.equal(geo.status, 400);
    assert.equal(await stop(first.child), 0);

    const second = await start();
    const health = await fetch(`${second.url}/healthz`);
    assert.deepEqual(await health.json(), { status: 'ok', store: `sqlite (${dbPath})` });
    const page = await (await fetch(`${second.url}/`)).text();
    // A series per tag set, as a query shows them: archive_file_tracked's long and double values are one series.
    assert.match(page, /<strong>6<\/strong> series, <strong>12<\/strong> points/);
    assert.match(page, />archive_file_tracked<\/a> — 1 series</);
    assert.equal(await stop(second.child), 0);

    const store = new SqliteStore({ path: dbPath });
    const tracked = await readAll(store, { metric: 'gz.archive_file_tracked' });
    assert.deepEqual(tracked.map((s) => s.points), [[[1359788300000, 13.2], [1359788410000, 23.1]], [[1359788400000, 123]]]);
    assert.deepEqual((await readAll(store, { metric: 'archive_file_search' }))[0]?.points, [[1359786400000, 321]]);
    assert.deepEqual(await store.metricNames(), ['archive_file_search', 'archive_file_tracked', 'gz.archive_file_search', 'gz.archive_file_tracked', 'gz.impedance', 'impedance']);
    await store.close();
  });

  it("runs the README's quick start verbatim (push plain and gzipped, then query) and gets the seed's points back", async (t) => {
    if (spawnSync('curl', ['--version']).status !== 0) return t.skip('curl is not installed');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Mount it in your app'));
    const blocks = [...quickStart.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    const commands = blocks.find((b) => b.includes('/datapoints/query'));
    assert.ok(commands, 'the quick start has a block that pushes and queries');
    const server = await start();
    try {
      const run = spawnSync('sh', ['-e', '-c', commands.replaceAll('http://localhost:8080', server.url)], { cwd: root, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout.match(/HTTP\/1\.1 204 No Content/g)?.length, 2, run.stdout);
      const answer = JSON.parse(run.stdout.slice(run.stdout.lastIndexOf('{"queries"'))) as { queries: { results: { name: string; values: number[][] }[] }[] };
      const values = answer.queries.map((q) => q.results[0]?.values.map(([, v]) => v));
      assert.deepEqual(values, [[13.2, 146.1], [321]]);
    } finally {
      await stop(server.child);
    }
  });

  it('says in one line that the port is in use, and exits 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'example-app/server.ts'], {
        cwd: root,
        env: { ...process.env, PORT: String(port), STORE: 'sqlite', SQLITE_PATH: ':memory:' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(run.status, 1);
      assert.equal(run.stderr.trim(), `koa-kairosdb example: cannot listen: port ${port} is in use; set PORT to a free one (PORT=8081 npm start)`);
    } finally {
      blocker.close();
    }
  });
});
