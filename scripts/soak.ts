// npm run soak [-- --clients 8 --seconds 30 --points 1000]: N clients against the example server on SQLite
// for M seconds, then a full read-back: acknowledged points must equal stored points.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readAll } from '../src/store-api/conformance.js';
import { SqliteStore } from '../src/sqlite.js';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '8' }, seconds: { type: 'string', default: '30' }, points: { type: 'string', default: '1000' } } });
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const perRequest = Number(values.points);
const dir = mkdtempSync(join(tmpdir(), 'koa-kairosdb-soak-'));
const dbPath = join(dir, 'soak.db');

const server = spawn(process.execPath, ['--import', 'tsx', 'example-app/server.ts'], {
  env: { ...process.env, PORT: '0', STORE: 'sqlite', SQLITE_PATH: dbPath, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d: Buffer) => {
    out += d;
    const m = /listening on (http:\/\/localhost:\d+)/.exec(out);
    if (m) resolve(m[1] as string);
  });
  server.once('exit', () => reject(new Error(out)));
});

const deadline = Date.now() + seconds * 1000;
const acked = new Map<string, number>();
const statuses: Record<number, number> = {};
let requests = 0;
await Promise.all(
  Array.from({ length: clients }, async (_, c) => {
    const client = `c${c}`;
    let next = 0;
    while (Date.now() < deadline) {
      const datapoints = Array.from({ length: perRequest }, (_, i) => [next + i, i % 97]);
      const res = await fetch(`${url}/api/v1/datapoints`, { method: 'POST', body: JSON.stringify([{ name: 'soak', tags: { client }, datapoints }]) });
      await res.arrayBuffer();
      requests++;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 204) acked.set(client, (acked.get(client) ?? 0) + perRequest);
      next += perRequest;
    }
  }),
);
server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));

const store = new SqliteStore({ path: dbPath });
let stored = 0;
const missing: string[] = [];
for (const s of await readAll(store, { metric: 'soak' })) {
  stored += s.points.length;
  if (s.points.length !== acked.get(s.tags.client as string)) missing.push(`${s.tags.client}: acked ${acked.get(s.tags.client as string)}, stored ${s.points.length}`);
}
await store.close();
rmSync(dir, { recursive: true, force: true });
const ackedTotal = [...acked.values()].reduce((a, b) => a + b, 0);
console.log(`soak: ${clients} clients × ${seconds} s, ${requests} requests (${JSON.stringify(statuses)}), ${perRequest} points each`);
console.log(`acked ${ackedTotal} points, stored ${stored} points, ${Math.round(ackedTotal / seconds)} acked points/s`);
if (stored !== ackedTotal || missing.length > 0) {
  console.error(`MISMATCH\n${missing.join('\n')}`);
  process.exit(1);
}
console.log('acked == stored');
