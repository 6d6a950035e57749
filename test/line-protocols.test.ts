import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { kairosdb, MemoryStore, type KairosdbOptions } from '../src/index.js';
import { readAll } from '../src/store-api/conformance.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every mount and listener a test made, closed at the end even when a test failed (a listening server would keep the process alive). */
const made: { close(): Promise<unknown> }[] = [];
after(() => Promise.all(made.map((m) => m.close().catch(() => undefined))));

/** A mount with a listener on a free loopback port. */
async function listening(kind: 'telnet' | 'graphite', listener: Record<string, unknown> = {}, options: Partial<KairosdbOptions> = {}) {
  const store = new MemoryStore();
  const warnings: string[] = [];
  const logger = { error() {}, info() {}, debug() {}, warn: (_: unknown, message: string) => void warnings.push(message) };
  const mount = kairosdb({ store, logger, ...options });
  made.push(mount);
  const server = kind === 'telnet' ? await mount.listenTelnet({ port: 0, ...listener }) : await mount.listenGraphite({ port: 0, ...listener });
  const port = (server.address() as AddressInfo).port;
  return { store, mount, server, port, warnings };
}

/** Sends bytes on one connection, then ends it; resolves with what the server wrote back. */
function send(port: number, ...chunks: (string | Buffer)[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        socket.write(chunk);
        await sleep(5);
      }
      socket.end();
    });
  });
}

/** Waits until `check` passes (the listener writes in batches, a little after the lines arrive). */
async function eventually(check: () => Promise<void>, ms = 10_000): Promise<void> {
  for (const until = Date.now() + ms; ; ) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) throw error;
      await sleep(20);
    }
  }
}

const close = (server: Server) => new Promise((resolve) => server.close(resolve));

describe('telnet listener (KairosDB telnet protocol)', () => {
  it('stores put (seconds), putm (ms) and puts lines, with kairos_opt.ttl, add=tag without tags, CRLF and runs of spaces', async () => {
    const { store, port, mount } = await listening('telnet');
    await send(
      port,
      'put cpu 1700000000 1 host=a\n',
      'putm cpu 1700000000500 2.5 host=a\r\n',
      'puts note 1700000000000 hello host=a\n',
      'put   load   1700000001000   7  \n',
      'put short 1700000002000 3 host=b kairos_opt.ttl=3600\n',
    );
    await eventually(async () => {
      const cpu = await readAll(store, { metric: 'cpu' });
      assert.deepEqual(cpu.map((s) => [s.type, s.points]), [['double', [[1700000000500, 2.5]]], ['long', [[1700000000000, 1]]]]);
    });
    assert.deepEqual((await readAll(store, { metric: 'note' }))[0]?.points, [[1700000000000, 'hello']]);
    assert.deepEqual((await readAll(store, { metric: 'load' }))[0]?.tags, { add: 'tag' });
    let ttl: number | undefined;
    for await (const s of store.read({ metric: 'short', expiry: true })) for await (const page of s.points()) ttl = page.expires?.[0];
    assert.ok(ttl !== undefined && Math.abs(ttl - (Date.now() + 3_600_000)) < 5000);
    await mount.close();
  });

  it('answers version, and only version', async () => {
    const { port, mount } = await listening('telnet');
    assert.match(await send(port, 'version\n', 'put x 1 1 a=b\n'), /^KairosDB koa-kairosdb \d+\.\d+\.\d+\S*\n$/);
    await mount.close();
  });

  it('drops a bad line, counts and logs it, and stores the connection\'s other lines', async () => {
    const { store, port, mount, warnings } = await listening('telnet', {}, { routes: { metrics: true } });
    await send(port, 'putm m 1000 1 h=a\n', 'putm m 2000 abc h=a\n', 'putm m 3000 3 h\n', 'hello\n', '\n', 'putm m 4000 NaN.0 h=a\n', 'putm m x 4 h=a\n', 'putm m 5000 99999999999999999999 h=a\n', 'putm m 6000 6 h=a\n');
    await eventually(async () => assert.deepEqual((await readAll(store, { metric: 'm' }))[0]?.points, [[1000, 1], [6000, 6]]));
    const text = await mount.metrics();
    assert.match(text, /koa_kairosdb_protocol_lines_total\{protocol="telnet",outcome="stored"\} 2/);
    assert.match(text, /koa_kairosdb_protocol_lines_total\{protocol="telnet",outcome="invalid"\} 7/);
    assert.ok(warnings.some((w) => /telnet: line refused: value 'abc' is not a number/.test(w)), warnings.join('\n'));
    await mount.close();
  });

  it('refuses the lines that would bring a batch past maxNamesPerBody different tag names, and stores the others', async () => {
    const { store, port, warnings } = await listening('telnet', {}, { maxNamesPerBody: 100 });
    // In one chunk (one batch): 3 lines of 40 new tag names each, then a line of known names.
    const line = (n: number) => `putm m ${1000 + n} ${n} ${Array.from({ length: 40 }, (_, i) => `t${n * 40 + i}=v`).join(' ')}\n`;
    await send(port, `${line(0)}${line(1)}${line(2)}putm m 4000 4 t0=v t1=v\n`);
    await eventually(async () => assert.deepEqual((await readAll(store, { metric: 'm' })).flatMap((s) => s.points).sort((a, b) => a[0] - b[0]), [[1000, 0], [1001, 1], [4000, 4]]));
    assert.ok(warnings.some((w) => /telnet: line refused: more than 100 different tag names in one batch \(maxNamesPerBody\)/.test(w)), warnings.join('\n'));
  });

  it('drops a line over maxLineBytes up to its end, in one piece or many, and reads the next line', async () => {
    const { store, port, mount } = await listening('telnet', { maxLineBytes: 64 });
    const long = `putm big 1000 1 h=${'x'.repeat(200)}\n`;
    await send(port, long, `putm m 1000 1 h=${'y'.repeat(30)}`, 'z'.repeat(100), '\nputm m 2000 2 h=a\n');
    await eventually(async () => assert.deepEqual((await readAll(store, { metric: 'm' })).map((s) => s.points), [[[2000, 2]]]));
    assert.deepEqual(await store.metricNames(), ['m']);
    await mount.close();
  });

  it('closes connections past maxConnections, and close() writes what was gathered and ends the others', async () => {
    const { store, port, mount, server } = await listening('telnet', { maxConnections: 1 });
    const first = connect(port, '127.0.0.1');
    await new Promise((resolve) => first.once('connect', resolve));
    await sleep(20);
    const refused = await send(port, 'put m 1 1 a=b\n');
    assert.equal(refused, '');
    first.write('putm kept 1000 1 h=a\n');
    await sleep(2);
    const ended = new Promise((resolve) => first.once('close', resolve));
    await close(server);
    await ended;
    assert.deepEqual((await readAll(store, { metric: 'kept' }))[0]?.points, [[1000, 1]]);
    assert.equal(server.listening, false);
    await mount.close();
  });

  it('stores every line of a sender past maxLinesPerSecond, reading it no faster than allowed', async () => {
    const { store, port, mount } = await listening('telnet', { maxLinesPerSecond: 200 });
    const lines = Array.from({ length: 500 }, (_, i) => `putm r ${i + 1} ${i} h=a\n`).join('');
    const started = Date.now();
    await send(port, lines);
    await eventually(async () => assert.equal((await readAll(store, { metric: 'r' }))[0]?.points.length, 500), 5000);
    assert.ok(Date.now() - started >= 1500, `${Date.now() - started} ms`);
    await mount.close();
  });

  it('on a tenant-bound mount, needs a tenant and stamps it on every point (a line naming another is refused)', async () => {
    const tenantBound = { tenant: () => 'x' };
    const store = new MemoryStore();
    const mount = kairosdb({ store, ...tenantBound });
    made.push(mount);
    await assert.rejects(mount.listenTelnet({ port: 0 }), /tenant-bound; give the listener the tenant/);
    const server = await mount.listenTelnet({ port: 0, tenant: 'ops' });
    await send((server.address() as AddressInfo).port, 'putm m 1000 1 h=a\n', 'putm m 2000 2 h=a tenant=other\n');
    await eventually(async () => assert.deepEqual((await readAll(store, { metric: 'm' })).map((s) => [s.tags, s.points]), [[{ h: 'a', tenant: 'ops' }, [[1000, 1]]]]));
    await close(server);
  });
});

describe('Graphite plaintext listener', () => {
  it("maps paths as KairosDB's carbon plugin does (the second part is host), seconds to ms, and drops NaN and short paths", async () => {
    const { store, port, mount } = await listening('graphite');
    await send(port, 'collectd.web1.cpu-0.idle 97.5 1700000000\n', 'collectd.web1.load 2 1700000001\n', 'collectd.web1.x NaN 1700000001\n', 'short.path 1 1700000001\n', 'a.b.c 1 -x\n');
    await eventually(async () => {
      const idle = await readAll(store, { metric: 'collectd.cpu-0.idle' });
      assert.deepEqual(idle.map((s) => [s.tags, s.type, s.points]), [[{ host: 'web1', type: 'graphite' }, 'double', [[1700000000000, 97.5]]]]);
    });
    assert.deepEqual((await readAll(store, { metric: 'collectd.load' }))[0]?.points, [[1700000001000, 2]]);
    assert.deepEqual(await store.metricNames(), ['collectd.cpu-0.idle', 'collectd.load']);
    await mount.close();
  });

  it('refuses the line, and nothing else, when a mapping of its own throws or answers nonsense', async () => {
    const mapping = (path: string) => {
      if (path === 'boom') throw new Error('no');
      return path === 'odd' ? (42 as never) : { name: path, tags: { h: 'a' } };
    };
    const { store, port, mount, warnings } = await listening('graphite', { mapping });
    await send(port, 'boom 1 1700000000\n', 'odd 1 1700000000\n', 'fine 2 1700000000\n');
    await eventually(async () => assert.deepEqual((await readAll(store, { metric: 'fine' }))[0]?.points, [[1700000000000, 2]]));
    assert.ok(warnings.some((w) => /the line could not be read: no/.test(w)), warnings.join('\n'));
    await mount.close();
  });

  it('takes a mapping of its own', async () => {
    const { store, port, mount } = await listening('graphite', { mapping: (path: string) => ({ name: path, tags: { source: 'graphite' } }) });
    await send(port, 'servers.a.cpu 1 1700000000\n');
    await eventually(async () => assert.deepEqual((await readAll(store, { metric: 'servers.a.cpu' }))[0]?.tags, { source: 'graphite' }));
    await mount.close();
  });
});
