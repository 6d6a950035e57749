// npm run abuse [-- --only gaps-day]: each attack of issue #12 against a fresh example server on SQLite
// (in memory), one at a time. Per attack: status, time, response bytes, the server's peak RSS and the worst
// latency of a small request (GET /api/v1/version every 100 ms) while it ran. Loopback only, bounded in time.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const { values } = parseArgs({ options: { only: { type: 'string' }, seconds: { type: 'string', default: '60' } } });
const limitMs = Number(values.seconds) * 1000;

interface Server {
  child: ChildProcess;
  url: string;
}

async function start(): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'example-app/server.ts'], {
    env: { ...process.env, PORT: '0', STORE: 'sqlite', SQLITE_PATH: ':memory:', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/localhost:\d+)/.exec(out);
      if (m) resolve((m[1] as string).replace('localhost', '127.0.0.1'));
    });
    child.once('exit', () => reject(new Error(out)));
  });
  return { child, url };
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function send(url: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) {
  const started = performance.now();
  try {
    const res = await fetch(url + path, { method, body: body ?? null, headers, signal: AbortSignal.timeout(limitMs) });
    const text = await res.text();
    return { status: res.status, bytes: text.length, text: text.slice(0, 160), ms: performance.now() - started };
  } catch (error) {
    return { status: 0, bytes: 0, text: String((error as Error).message).slice(0, 160), ms: performance.now() - started };
  }
}

const json = { 'Content-Type': 'application/json' };
const day = 86_400_000;
const now = Date.now();
const point = (name: string, tags: Record<string, string>, ts: number, value: unknown) => ({ name, tags, timestamp: ts, value });
const query = (metrics: unknown[], extra: object = {}) => JSON.stringify({ start_absolute: now - day, end_absolute: now, metrics, ...extra });
const nested = (depth: number, leaf = '"a"') => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
const digits = '1'.repeat(250_000) + 'x';
let gzipped: Buffer | undefined;

interface Attack {
  name: string;
  seed?: (url: string) => Promise<void>;
  run: (url: string) => Promise<{ status: number; bytes: number; text: string; ms: number }>;
}

async function post(url: string, body: unknown) {
  const res = await send(url, 'POST', '/api/v1/datapoints', JSON.stringify(body), json);
  if (res.status !== 204) throw new Error(`seed failed: ${res.status} ${res.text}`);
}

const attacks: Attack[] = [
  {
    name: 'gaps-day',
    seed: (url) => post(url, [point('m', { h: 'a' }, now - 1000, 1)]),
    run: (url) => send(url, 'POST', '/api/v1/datapoints/query', JSON.stringify({ start_relative: { value: 1, unit: 'days' }, metrics: [{ name: 'm', aggregators: [{ name: 'gaps', sampling: { value: 1, unit: 'milliseconds' } }] }] }), json),
  },
  {
    name: 'gaps-2h',
    seed: (url) => post(url, [point('m', { h: 'a' }, now - 1000, 1)]),
    run: (url) => send(url, 'POST', '/api/v1/datapoints/query', JSON.stringify({ start_relative: { value: 2, unit: 'hours' }, metrics: [{ name: 'm', aggregators: [{ name: 'gaps', sampling: { value: 1, unit: 'milliseconds' } }] }] }), json),
  },
  { name: 'digits-value', run: (url) => send(url, 'POST', '/api/v1/datapoints', `[{"name":"m","tags":{"h":"a"},"timestamp":1,"value":"${digits}"}]`, json) },
  { name: 'digits-timestamp', run: (url) => send(url, 'POST', '/api/v1/datapoints', `[{"name":"m","tags":{"h":"a"},"timestamp":"${digits}","value":1}]`, json) },
  { name: 'digits-query', run: (url) => send(url, 'POST', '/api/v1/datapoints/query', `{"start_absolute":"${digits}","metrics":[{"name":"m"}]}`, json) },
  {
    name: 'slow-64',
    run: async (url) => {
      const { port } = new URL(url);
      const sockets = Array.from({ length: 64 }, () => {
        const s = connect(Number(port), '127.0.0.1');
        s.on('error', () => {});
        s.write('POST /api/v1/datapoints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[');
        return s;
      });
      const drip = setInterval(() => sockets.forEach((s) => s.write(' ')), 2000);
      await new Promise((r) => setTimeout(r, 3000));
      const fast = await send(url, 'POST', '/api/v1/datapoints', JSON.stringify([point('m', { h: 'a' }, 1, 1)]), json);
      const health = await send(url, 'GET', '/api/v1/health/check');
      clearInterval(drip);
      sockets.forEach((s) => s.destroy());
      return { ...fast, text: `fast write ${fast.status}, health ${health.status}: ${fast.text}` };
    },
  },
  {
    name: 'metrics-2000x2000',
    seed: (url) => post(url, Array.from({ length: 2000 }, (_, i) => point('m', { h: String(i) }, now - 1000, i))),
    run: (url) => send(url, 'POST', '/api/v1/datapoints/query', query(Array.from({ length: 2000 }, () => ({ name: 'm' }))), json),
  },
  {
    name: 'metrics-1000x2000',
    seed: (url) => post(url, Array.from({ length: 2000 }, (_, i) => point('m', { h: String(i) }, now - 1000, i))),
    run: (url) => send(url, 'POST', '/api/v1/datapoints/query', query(Array.from({ length: 1000 }, () => ({ name: 'm' }))), json),
  },
  {
    name: 'gzip-2.5M-metrics',
    seed: async (url) => {
      await post(url, [point('m', { h: 'a' }, now - 1000, 1)]);
      gzipped ??= gzipSync(query(Array.from({ length: 2_500_000 }, () => ({ name: 'm' }))));
    },
    run: (url) => send(url, 'POST', '/api/v1/datapoints/query', gzipped as Buffer, { ...json, 'Content-Encoding': 'gzip' }),
  },
  {
    name: 'raw-1M-points',
    seed: async (url) => {
      for (let k = 0; k < 100; k++) await post(url, [{ name: 'm', tags: { h: 'a' }, datapoints: Array.from({ length: 10_000 }, (_, i) => [now - day + 1 + k * 10_000 + i, i]) }]);
    },
    run: (url) => send(url, 'POST', '/api/v1/datapoints/query', query([{ name: 'm' }]), json),
  },
  {
    name: 'raw-1M+1-points',
    seed: async (url) => {
      for (let k = 0; k < 100; k++) await post(url, [{ name: 'm', tags: { h: 'a' }, datapoints: Array.from({ length: 10_000 }, (_, i) => [now - day + 1 + k * 10_000 + i, i]) }]);
      await post(url, [point('m', { h: 'b' }, now - 1000, 1)]);
    },
    run: (url) => send(url, 'POST', '/api/v1/datapoints/query', query([{ name: 'm' }]), json),
  },
  {
    name: 'sum-1ms-1M-points',
    seed: async (url) => {
      for (let k = 0; k < 100; k++) await post(url, [{ name: 'm', tags: { h: 'a' }, datapoints: Array.from({ length: 10_000 }, (_, i) => [now - day + 1 + k * 10_000 + i, i]) }]);
    },
    run: (url) => send(url, 'POST', '/api/v1/datapoints/query', query([{ name: 'm', aggregators: [{ name: 'percentile', percentile: 0.5, sampling: { value: 1, unit: 'days' } }, { name: 'sma', size: 1000000 }] }]), json),
  },
  {
    name: 'group-by-20000-tags',
    seed: (url) => post(url, Array.from({ length: 1000 }, (_, i) => point('m', { h: String(i) }, now - 1000, i))),
    run: (url) => send(url, 'POST', '/api/v1/datapoints/query', query([{ name: 'm', group_by: [{ name: 'tag', tags: ['h', ...Array.from({ length: 20_000 }, (_, i) => `t${i}`)] }] }]), json),
  },
  {
    name: 'value-grouper-130000',
    seed: async (url) => {
      for (let k = 0; k < 13; k++) await post(url, [{ name: 'm', tags: { h: 'a' }, datapoints: Array.from({ length: 10_000 }, (_, i) => [now - day + 1 + k * 10_000 + i, k * 10_000 + i]) }]);
    },
    run: (url) => send(url, 'POST', '/api/v1/datapoints/query', query([{ name: 'm', group_by: [{ name: 'value', range_size: 1 }] }]), json),
  },
  { name: 'nested-query-tags', run: (url) => send(url, 'POST', '/api/v1/datapoints/query', `{"start_absolute":1,"metrics":[{"name":"m","tags":{"h":${nested(100_000)}}}]}`, json) },
  { name: 'nested-group-by-tags', run: (url) => send(url, 'POST', '/api/v1/datapoints/query', `{"start_absolute":1,"metrics":[{"name":"m","group_by":[{"name":"tag","tags":${nested(100_000)}}]}]}`, json) },
  { name: 'nested-complex', run: (url) => send(url, 'POST', '/api/v1/datapoints', `[{"name":"m","type":"complex-number","tags":{"h":"a"},"timestamp":1,"value":{"real":${nested(100_000, '1')},"imaginary":1}}]`, json) },
  { name: 'start-1M-years', run: (url) => send(url, 'POST', '/api/v1/datapoints/query', JSON.stringify({ start_relative: { value: 1_000_000, unit: 'years' }, metrics: [{ name: 'm' }] }), json) },
  { name: 'gzip-empty', run: (url) => send(url, 'POST', '/api/v1/datapoints', '', { ...json, 'Content-Encoding': 'gzip' }) },
];

for (const attack of attacks) {
  if (values.only && !values.only.split(',').includes(attack.name)) continue;
  const server = await start();
  const pid = server.child.pid as number;
  await attack.seed?.(server.url);
  const base = rssMb(pid);
  let peak = base;
  let worstProbe = 0;
  let probing = true;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
  const probe = (async () => {
    while (probing) {
      const r = await send(server.url, 'GET', '/api/v1/version');
      worstProbe = Math.max(worstProbe, r.ms);
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  let exited = '';
  server.child.once('exit', (code, signal) => (exited = `server exited (${code ?? signal})`));
  let stderr = '';
  server.child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-300)));
  const result = await attack.run(server.url);
  probing = false;
  await Promise.race([probe, new Promise((r) => setTimeout(r, 2000))]);
  clearInterval(sampler);
  const died = exited ? ` ${exited}: ${stderr.replace(/\s+/g, ' ').slice(-120)}` : '';
  console.log(
    `${attack.name.padEnd(22)} ${String(result.status).padStart(3)} in ${(result.ms / 1000).toFixed(2)} s, ${(result.bytes / 1e6).toFixed(2)} MB; RSS ${base.toFixed(0)} → peak ${peak.toFixed(0)} MB; worst probe ${worstProbe.toFixed(0)} ms; ${result.text.replace(/\s+/g, ' ').slice(0, 140)}${died}`,
  );
  server.child.kill('SIGKILL');
}
process.exit(0);
