import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The package as npm publishes it: `npm pack` (which builds), unpacked into a scratch project whose other
 * dependencies are this repository's, with examples/host-app copied in as a user's app.
 */
describe('the published package', () => {
  let work: string;
  let files: string[];
  let project: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'koa-kairosdb-pack-'));
    const [packed] = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as [{ filename: string; files: { path: string }[] }];
    files = packed.files.map((f) => f.path).sort();
    project = join(work, 'app');
    const modules = join(project, 'node_modules');
    mkdirSync(modules, { recursive: true });
    for (const name of readdirSync(join(root, 'node_modules'))) {
      if (name === '@types') continue;
      if (name !== '.bin' && name !== '.package-lock.json') symlinkSync(join(root, 'node_modules', name), join(modules, name));
    }
    // A user of the package need not install better-sqlite3's types (they are this repository's devDependency).
    mkdirSync(join(modules, '@types'));
    for (const name of readdirSync(join(root, 'node_modules', '@types'))) {
      if (name !== 'better-sqlite3') symlinkSync(join(root, 'node_modules', '@types', name), join(modules, '@types', name));
    }
    execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', work]);
    cpSync(join(work, 'package'), join(modules, 'koa-kairosdb'), { recursive: true });
    cpSync(join(root, 'examples', 'host-app'), project, { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'host-app', private: true, type: 'module' }));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false }, include: ['*.ts'] }),
    );
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('ships LICENSE, CHANGELOG, README, the HTTP contract and the example, and no source maps pointing at unshipped sources', () => {
    for (const file of ['LICENSE', 'CHANGELOG.md', 'README.md', 'package.json', 'docs/http-contract.md', 'examples/host-app/app.ts', 'ui/index.html', 'ui/explorer.js', 'dist/index.js', 'dist/index.d.ts', 'dist/sqlite.js', 'dist/cassandra.js', 'dist/bin/schema.js', 'dist/bin/transfer.js']) {
      assert.ok(files.includes(file), `${file} is in the package`);
    }
    assert.deepEqual(files.filter((f) => f.endsWith('.map') || f.startsWith('src/') || f.startsWith('test/')), []);
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.equal(manifest.license, 'MIT');
    assert.ok(manifest.keywords.includes('kairosdb'));
    assert.deepEqual(manifest.peerDependenciesMeta['cassandra-driver'], { optional: true });
    assert.equal(manifest.dependencies, undefined, 'no hard dependency: drivers and superstruct are peers');
  });

  it('every file the README names is in the package', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const named = [...readme.matchAll(/\]\((?!https?:|#)([^)#]+)\)/g)].map((m) => m[1] as string);
    assert.ok(named.length > 0);
    for (const path of named) assert.ok(files.includes(path) || files.some((f) => f.startsWith(`${path}/`)), `${path} is shipped`);
    assert.doesNotMatch(readme, /the project's HTTP contract/);
  });

  it("type-checks the host-app example against the published types (a user's tsc, strict, nodenext)", () => {
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  });

  it('runs the host-app example as ES modules: router, token auth, SQLite, the histogram type, graceful shutdown', async () => {
    const server = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], { cwd: project, env: { ...process.env, PORT: '0', TOKEN: 't0k', DB_PATH: join(work, 'db', 'host.db') } });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (chunk: Buffer) => {
          out += chunk;
          const match = /127\.0\.0\.1:(\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        server.on('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const base = `http://127.0.0.1:${port}`;
      const auth = { Authorization: 'Bearer t0k', 'Content-Type': 'application/json' };
      const value = { bounds: [10, 100], counts: [3, 1] };
      assert.deepEqual(await (await fetch(`${base}/hello`)).json(), { hello: 'world' });
      const refused = await fetch(`${base}/metrics/api/v1/metricnames`);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic realm="metrics"/);
      // The explorer in a browser: the token as the password of Basic credentials, for the page and its API calls.
      const basic = { Authorization: `Basic ${Buffer.from('me:t0k').toString('base64')}` };
      const page = await fetch(`${base}/metrics/api/v1/ui/`, { headers: basic });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>koa-kairosdb explorer<\/title>/);
      assert.equal((await fetch(`${base}/metrics/api/v1/metricnames`, { headers: basic })).status, 200);
      assert.equal((await fetch(`${base}/metrics/api/v1/metricnames`, { headers: { Authorization: `Basic ${Buffer.from('me:wrong').toString('base64')}` } })).status, 401);
      const push = await fetch(`${base}/metrics/api/v1/datapoints`, { method: 'POST', headers: auth, body: JSON.stringify([{ name: 'latency', tags: { host: 'a' }, type: 'histogram', datapoints: [[5, value]] }]) });
      assert.equal(push.status, 204, await push.text());
      const bad = await fetch(`${base}/metrics/api/v1/datapoints`, { method: 'POST', headers: auth, body: JSON.stringify([{ name: 'latency', tags: { host: 'a' }, type: 'histogram', datapoints: [[5, { bounds: [1], counts: [1, 2] }]] }]) });
      assert.deepEqual(((await bad.json()) as { errors: string[] }).errors, ["metric[0](name=latency).datapoints[0].value is not a valid value of type 'histogram' (fails the 'same-length' check)."]);
      const query = await fetch(`${base}/metrics/api/v1/datapoints/query`, { method: 'POST', headers: auth, body: JSON.stringify({ start_absolute: 0, metrics: [{ name: 'latency' }] }) });
      const result = ((await query.json()) as { queries: { results: { values: unknown; group_by: unknown }[] }[] }).queries[0]?.results[0];
      assert.deepEqual(result?.values, [[5, value]]);
      assert.deepEqual(result?.group_by, [{ name: 'type', type: 'histogram' }]);
      const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
      server.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('runs the packed koa-kairosdb CLI: a SQLite store exported and imported into another, TTL kept', () => {
    const bin = join(project, 'node_modules', 'koa-kairosdb', 'dist', 'bin', 'transfer.js');
    const from = join(work, 'cli-from.db');
    const body = '{"name":"cpu","tags":{"host":"a"},"ttl":600,"datapoints":[[1,1],[2,2.5,"double"]]}\n';
    const imported = spawnSync(process.execPath, [bin, 'import', '--store', `sqlite:${from}`], { input: body, encoding: 'utf8' });
    assert.equal(imported.status, 0, imported.stderr);
    const exported = spawnSync(process.execPath, [bin, 'export', '--store', `sqlite:${from}`], { encoding: 'utf8' });
    assert.equal(exported.status, 0, exported.stderr);
    const lines = exported.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; ttl: number; datapoints: unknown[] });
    assert.deepEqual(lines.map((l) => [l.type, l.datapoints]).sort(), [['double', [[2, 2.5]]], ['long', [[1, 1]]]]);
    assert.ok(lines.every((l) => l.ttl > 590 && l.ttl <= 600));
  });

  it('runs under CommonJS: require("koa-kairosdb") on this Node', () => {
    const run = spawnSync(process.execPath, ['require.cjs'], { cwd: project, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { pushed: 204, values: [[1, 42]] });
  });
});
