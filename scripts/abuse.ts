// npm run abuse [-- --only gaps-day]: each attack of issues #12 and #29 against a fresh example server on SQLite
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
  telnetPort: number;
}

async function start(): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'example-app/server.ts'], {
    env: { ...process.env, PORT: '0', TELNET_PORT: '0', STORE: 'sqlite', SQLITE_PATH: ':memory:', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [url, telnetPort] = await new Promise<[string, number]>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/localhost:\d+).*telnet on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve([(m[1] as string).replace('localhost', '127.0.0.1'), Number(m[2])]);
    });
    child.once('exit', () => reject(new Error(out)));
  });
  return { child, url, telnetPort };
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
/** A body an attack's seed built. */
let built = '';

interface Attack {
  name: string;
  seed?: (url: string) => Promise<void>;
  run: (url: string, server: Server) => Promise<{ status: number; bytes: number; text: string; ms: number }>;
}

async function post(url: string, body: unknown) {
  const res = await send(url, 'POST', '/api/v1/datapoints', JSON.stringify(body), json);
  if (res.status !== 204) throw new Error(`seed failed: ${res.status} ${res.text}`);
}

const influx = { 'Content-Type': 'text/plain' };
const protobuf = { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' };

/** Writes `chunks` to the telnet port, then a valid line; resolves with how it went (status 0: the socket was cut). */
function telnet(port: number, chunks: () => Iterable<Buffer>): Promise<{ status: number; bytes: number; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', async () => {
      let sent = 0;
      for (const chunk of chunks()) {
        sent += chunk.length;
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
      }
      socket.end('\nputm after.flood 1000 1 h=a\n');
      socket.once('close', () => resolve({ status: 200, bytes: sent, text: `${(sent / 1e6).toFixed(0)} MB sent, then a valid line`, ms: performance.now() - started }));
    });
    socket.on('error', (error) => resolve({ status: 0, bytes: 0, text: error.message, ms: performance.now() - started }));
  });
}

const attacks: Attack[] = [
  // #32's hostile input per protocol.
  { name: 'influx-10MB-line', seed: async () => void (built = `m,h=${'x'.repeat(10_000_000)} v=1 1`), run: (url) => send(url, 'POST', '/api/v1/api/v2/write', built, influx) },
  { name: 'influx-1M-tags', seed: async () => void (built = `m${Array.from({ length: 1_000_000 }, (_, i) => `,t${i}=v`).join('')} v=1 1`), run: (url) => send(url, 'POST', '/api/v1/api/v2/write', built, influx) },
  { name: 'influx-100k-lines-bad-last', run: (url) => send(url, 'POST', '/api/v1/api/v2/write?precision=ms', `${Array.from({ length: 100_000 }, (_, i) => `m,h=a${i % 100} v=${i} ${now - i}`).join('\n')}\nm v=oops`, influx) },
  // Bodies built before the probes start (building them here would hold this process's own probe loop).
  { name: 'influx-400k-lines', seed: async () => void (built = Array.from({ length: 400_000 }, (_, i) => `m,h=a${i % 1000} v=${i}i ${now - i}`).join('\n')), run: (url) => send(url, 'POST', '/api/v1/api/v2/write?precision=ms', built, influx) },
  { name: 'otsdb-2500-refused', seed: async () => void (built = JSON.stringify(Array.from({ length: 2500 }, (_, i) => ({ metric: 'm', timestamp: now - i, value: i, tags: { h: `${i}${'x'.repeat(5000)}` } })))), run: (url) => send(url, 'POST', '/api/v1/api/put?details', built, json) },
  { name: 'otsdb-100k-bad-values', seed: async () => void (built = JSON.stringify(Array.from({ length: 100_000 }, (_, i) => ({ metric: 'm', timestamp: now - i, value: 'x', tags: { h: 'a' } })))), run: (url) => send(url, 'POST', '/api/v1/api/put?details', built, json) },
  { name: 'prw-snappy-bomb', run: (url) => send(url, 'POST', '/api/v1/write', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]), protobuf) },
  { name: 'prw-garbage-16MB', run: (url) => send(url, 'POST', '/api/v1/write', Buffer.concat([Buffer.from([0x80, 0x80, 0x80, 0x08]), Buffer.alloc(16 * 1024 * 1024 - 8, 0xff)]), protobuf) },
  {
    name: 'telnet-endless-line',
    run: (_url, server) => telnet(server.telnetPort, function* () {
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      for (let i = 0; i < 800; i++) yield chunk;
    }),
  },
  {
    name: 'telnet-1000-idle',
    run: async (url, server) => {
      const sockets = Array.from({ length: 1000 }, () => connect(server.telnetPort, '127.0.0.1').on('error', () => {}));
      await new Promise((r) => setTimeout(r, 2000));
      const open = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
      const res = await send(url, 'GET', '/api/v1/version');
      for (const s of sockets) s.destroy();
      return { ...res, text: `${open} of 1000 connections still open after 2 s; version ${res.status}` };
    },
  },

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
  // Issue #29.
  {
    name: 'stalled-readers-8',
    seed: seedMillion,
    run: async (url) => {
      const stalled = Array.from({ length: 8 }, () => stalledReader(url, query([{ name: 'm' }])));
      await new Promise((r) => setTimeout(r, 1000));
      const started = performance.now();
      let last = { status: 0, bytes: 0, text: '', ms: 0 };
      while (performance.now() - started < limitMs) {
        last = await send(url, 'POST', '/api/v1/datapoints/query', query([{ name: 'm', aggregators: [{ name: 'count', sampling: { value: 1, unit: 'days' } }] }]), json);
        if (last.status === 200) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const freedMs = performance.now() - started;
      stalled.forEach((s) => s.destroy());
      return { ...last, ms: freedMs, text: `first query admitted after ${(freedMs / 1000).toFixed(1)} s (status ${last.status})` };
    },
  },
  // 14,000 series of 50 tags, every tag name new: 700,000 names (JSON.parse alone held the loop 2.3 s; maxNamesPerBody).
  {
    name: 'json-700k-tag-names',
    seed: async () => void (built = JSON.stringify(Array.from({ length: 14_000 }, (_, s) => ({ name: 'm', tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${s * 50 + i}`, 'v'])), datapoints: [[now, 1]] })))),
    run: (url) => send(url, 'POST', '/api/v1/datapoints', built, json),
  },
  {
    name: 'empty-metrics-1M',
    run: (url) => send(url, 'POST', '/api/v1/datapoints', `[${Array(1_000_000).fill('{}').join(',')}]`, json),
  },
  {
    name: 'forged-form-delete',
    seed: (url) => post(url, [point('victim', { h: 'a' }, now - 1000, 1)]),
    run: async (url) => {
      const forged = await send(url, 'POST', '/api/v1/datapoints/delete', '{"metrics":[{"name":"victim"}],"start_absolute":0,"x":"="}', { 'Content-Type': 'text/plain', Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' });
      const left = await send(url, 'GET', '/api/v1/metricnames');
      return { ...forged, text: `${forged.text}; metric names after: ${left.text}` };
    },
  },
  {
    name: 'metadata-80000-keys',
    seed: async (url) => {
      let refused = 0;
      for (let i = 0; i < 80_000; i += 100) {
        const batch = await Promise.all(Array.from({ length: 100 }, (_, k) => send(url, 'POST', `/api/v1/metadata/svc/sk/${String(i + k).padStart(6, '0')}${'k'.repeat(994)}`, 'v', { 'Content-Type': 'text/plain' })));
        refused += batch.filter((r) => r.status !== 204).length;
      }
      console.log(`metadata-80000-keys: ${80_000 - refused} keys written, ${refused} refused`);
    },
    run: async (url) => {
      const listings = await Promise.all(Array.from({ length: 8 }, () => send(url, 'GET', '/api/v1/metadata/svc/sk')));
      const first = listings[0] as Awaited<ReturnType<typeof send>>;
      return { ...first, text: `8 listings: ${listings.map((l) => l.status).join(',')}; ${first.text.slice(0, 80)}` };
    },
  },
  {
    name: 'gzip-120MiB-body',
    seed: async () => {
      bigGzip ??= gzipSync(JSON.stringify(Array.from({ length: 5840 }, (_, m) => ({ name: 'big', tags: { h: String(m) }, datapoints: Array.from({ length: 1000 }, (_, i) => [now - day + i * 1000, i + 0.25]) }))));
    },
    run: (url) => send(url, 'POST', '/api/v1/datapoints', bigGzip as Buffer, { ...json, 'Content-Encoding': 'gzip' }),
  },
  {
    name: 'body-15.5MiB',
    seed: async () => {
      maxBody ??= JSON.stringify(Array.from({ length: 720 }, (_, m) => ({ name: 'big', tags: { h: String(m) }, datapoints: Array.from({ length: 1000 }, (_, i) => [now - day + i * 1000, i + 0.25]) })));
    },
    run: async (url) => {
      const res = await send(url, 'POST', '/api/v1/datapoints', maxBody as string, json);
      return { ...res, text: `${(Buffer.byteLength(maxBody as string) / 2 ** 20).toFixed(1)} MiB: ${res.text}` };
    },
  },
  {
    name: 'body-15.5MiB-x4',
    seed: async () => {
      maxBody ??= JSON.stringify(Array.from({ length: 720 }, (_, m) => ({ name: 'big', tags: { h: String(m) }, datapoints: Array.from({ length: 1000 }, (_, i) => [now - day + i * 1000, i + 0.25]) })));
    },
    run: async (url) => {
      const answers = await Promise.all(Array.from({ length: 4 }, () => send(url, 'POST', '/api/v1/datapoints', maxBody as string, json)));
      const first = answers[0] as Awaited<ReturnType<typeof send>>;
      return { ...first, ms: Math.max(...answers.map((a) => a.ms)), text: `4 at once: ${answers.map((a) => a.status).join(',')}` };
    },
  },
  {
    // Every value a long beyond ±(2^53−1) and one bad tag: refused, after the body's second, exact reading (#31 row 1).
    name: 'longs-15MiB-refused',
    run: async (url) => {
      const points = Array.from({ length: 480_000 }, (_, i) => `[${now - day + i},9007199254740993]`).join(',');
      const body = `[{"name":"longs","tags":{"h":"a"},"datapoints":[${points}]},{"name":"longs","tags":{"h":""},"datapoints":[[${now},1]]}]`;
      const res = await send(url, 'POST', '/api/v1/datapoints', body, json);
      return { ...res, text: `${(Buffer.byteLength(body) / 2 ** 20).toFixed(1)} MiB: ${res.text}` };
    },
  },
  {
    name: 'absolute-form-ui',
    run: async (url) => {
      const started = performance.now();
      const s = connect(Number(new URL(url).port), '127.0.0.1');
      s.end('GET http://evil.example/api/v1/ui HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
      let text = '';
      for await (const chunk of s) text += chunk;
      const location = /\r\nlocation: ([^\r]*)/i.exec(text)?.[1];
      return { status: Number(text.slice(9, 12)), bytes: text.length, text: `Location: ${location}`, ms: performance.now() - started };
    },
  },
  {
    name: 'rollups-100ms-sampling-1-year',
    run: (url) => send(url, 'POST', '/api/v1/rollups', JSON.stringify(rollupTask({ value: 1, unit: 'years' }, { value: 100, unit: 'milliseconds' })), json),
  },
  {
    // The runner's first execution rolls 61 minutes of 1,000,000 raw points up while the probe runs.
    name: 'rollups-1M-points-executed',
    seed: async (url) => {
      for (let k = 0; k < 100; k++) await post(url, [{ name: 'm', tags: { h: 'a' }, datapoints: Array.from({ length: 10_000 }, (_, i) => [now - 3_600_000 + Math.floor((k * 10_000 + i) * 3.6), i]) }]);
    },
    run: async (url) => {
      const created = await send(url, 'POST', '/api/v1/rollups', JSON.stringify(rollupTask({ value: 1, unit: 'hours' }, { value: 1, unit: 'minutes' })), json);
      if (created.status !== 200) return created;
      const id = (JSON.parse(created.text) as { id: string }).id;
      const started = performance.now();
      for (;;) {
        const status = await send(url, 'GET', `/api/v1/rollups/status/${id}`);
        if (status.status !== 404 || performance.now() - started > limitMs) return { ...status, ms: performance.now() - started };
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
  },
  {
    name: 'metadata-as-script',
    seed: (url) => send(url, 'POST', '/api/v1/metadata/s/k/js', 'alert(1)', { 'Content-Type': 'text/plain' }).then(() => undefined),
    run: async (url) => {
      const started = performance.now();
      const res = await fetch(`${url}/api/v1/metadata/s/k/js`);
      const asset = await fetch(`${url}/api/v1/ui/explorer.js`);
      const api = await fetch(`${url}/api/v1/metricnames`);
      const headers = `content-type ${res.headers.get('content-type')}, nosniff ${res.headers.get('x-content-type-options')}; explorer.js cache ${asset.headers.get('cache-control')}; API cache ${api.headers.get('cache-control')}`;
      return { status: res.status, bytes: 0, text: headers, ms: performance.now() - started };
    },
  },
];

/** A roll-up task: sums of `m` by `sampling`, every `interval`. */
function rollupTask(interval: object, sampling: object) {
  return { name: 'abuse', execution_interval: interval, rollups: [{ save_as: 'm.rollup', query: { start_relative: { value: 1, unit: 'hours' }, metrics: [{ name: 'm', aggregators: [{ name: 'sum', sampling }] }] } }] };
}

let bigGzip: Buffer | undefined;
let maxBody: string | undefined;

async function seedMillion(url: string): Promise<void> {
  for (let k = 0; k < 100; k++) await post(url, [{ name: 'm', tags: { h: 'a' }, datapoints: Array.from({ length: 10_000 }, (_, i) => [now - day + 1 + k * 10_000 + i, i]) }]);
}

/** Sends a query on a raw connection and never reads its answer. */
function stalledReader(url: string, body: string) {
  const s = connect(Number(new URL(url).port), '127.0.0.1');
  s.on('error', () => {});
  s.write(`POST /api/v1/datapoints/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  s.pause();
  return s;
}

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
  const result = await attack.run(server.url, server);
  probing = false;
  await Promise.race([probe, new Promise((r) => setTimeout(r, 2000))]);
  clearInterval(sampler);
  const died = exited ? ` ${exited}: ${stderr.replace(/\s+/g, ' ').slice(-120)}` : '';
  console.log(
    `${attack.name.padEnd(22)} ${String(result.status).padStart(3)} in ${(result.ms / 1000).toFixed(2)} s, ${(result.bytes / 1e6).toFixed(2)} MB; RSS ${base.toFixed(0)} → peak ${peak.toFixed(0)} MB; worst probe ${worstProbe.toFixed(0)} ms; ${result.text.replace(/\s+/g, ' ').slice(0, 140)}${died}`,
  );
  server.child.kill('SIGKILL');
}

// Issue #29 row 1, the shutdown: SIGTERM while a client that never reads holds a streamed answer.
if (!values.only || values.only.split(',').includes('sigterm-stalled')) {
  const server = await start();
  await seedMillion(server.url);
  const reader = stalledReader(server.url, query([{ name: 'm' }]));
  await new Promise((r) => setTimeout(r, 1000));
  const started = performance.now();
  const exited = new Promise<string>((resolve) => server.child.once('exit', (code) => resolve(`exited ${code}`)));
  server.child.kill('SIGTERM');
  const outcome = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 40_000))]);
  console.log(`sigterm-stalled        ${outcome} after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  reader.destroy();
  server.child.kill('SIGKILL');
}
process.exit(0);
