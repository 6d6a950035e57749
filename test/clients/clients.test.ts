import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { goClient, javaClient, pythonClient, pythonFeaturesClient, VERSIONS, type Client } from '../../scripts/clients.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** In CI (.ci/run sets it) a client that cannot run fails instead of being skipped. */
const required = process.env.CLIENTS_REQUIRED === '1';
const SCENARIOS = [
  'version', 'health check', 'query exact values and tags', 'sum aggregator by the hour', 'group by tag', 'limit and order',
  'tags query', 'metric names', 'delete points', 'delete metric', "a 400 with the server's message",
];

describe('third-party KairosDB clients against the example server (npm run test:clients)', () => {
  let server: ChildProcess;
  let baseUrl = '';
  before(async () => {
    server = spawn(process.execPath, ['--import', 'tsx', 'example-app/server.ts'], { cwd: root, env: { ...process.env, PORT: '0', STORE: 'sqlite', SQLITE_PATH: ':memory:', LOG_LEVEL: 'warn' } });
    baseUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout?.on('data', (chunk: Buffer) => {
        out += chunk;
        const match = /listening on http:\/\/localhost:(\d+)/.exec(out);
        if (match) resolve(`http://127.0.0.1:${match[1]}`);
      });
      server.once('exit', (code) => reject(new Error(`example server exited with ${code}: ${out}`)));
    });
  });
  after(() => server?.kill('SIGTERM'));

  const cases: [string, () => Client, string[]][] = [
    [`Java: ${VERSIONS.java}`, javaClient, ['push gzipped', ...SCENARIOS.slice(0, -1), 'push_long_64bit', ...SCENARIOS.slice(-1)]],
    [`Python: ${VERSIONS.python}`, pythonClient, ['push', ...SCENARIOS]],
    [`Python: ${VERSIONS.pythonFeatures}`, pythonFeaturesClient, ['health check', 'features', 'features aggregators', 'features group_by', 'unknown feature fails', 'metric names and query']],
    [`Go: ${VERSIONS.go}`, goClient, ['push', ...SCENARIOS]],
  ];
  for (const [label, prepare, expected] of cases) {
    it(label, async (t) => {
      const client = prepare();
      if (!client.ready) {
        if (required && !label.startsWith('Go')) assert.fail(`CLIENTS_REQUIRED=1 but ${client.why}`);
        return t.skip(client.why);
      }
      const { command, args, cwd, env } = client.run(baseUrl);
      const result = spawnSync(command, args, { cwd, env: env ?? process.env, encoding: 'utf8', timeout: 300_000 });
      const passed = result.stdout.split('\n').filter((line) => line.startsWith('ok ')).map((line) => line.slice(3));
      assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`.slice(-4000));
      assert.deepEqual([...passed].sort(), [...expected].sort());
    });
  }
});
