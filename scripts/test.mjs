// Runs every test/**/*.test.ts with node:test and tsx (Node 20's --test does not expand globs).
// `npm test` leaves out test/cluster (the fault tests need the 3-node cluster: npm run test:cluster) and test/clients
// (third-party clients fetched from Maven Central and PyPI: npm run test:clients).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'test';
const files = readdirSync(dir, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts') && !(dir === 'test' && (f.startsWith('cluster') || f.startsWith('clients'))))
  .map((f) => join(dir, f))
  .sort();
if (dir === 'test') {
  console.log('test/cluster (fault tests on the 3-node Cassandra cluster) is not part of npm test: npm run cassandra:cluster:start, then npm run test:cluster');
  console.log('test/clients (the Java, Python and Go KairosDB clients, fetched from their registries) is not part of npm test: npm run test:clients');
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
