// Issue #29 row 1: an answer its client does not read gives its slot back (the query deadline covers sending the
// answer, a minimum read rate applies after a grace period, and close() ends such connections after a bounded wait).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Koa from 'koa';
import { kairosdb, MemoryStore, type KairosdbOptions } from '../src/index.js';
import { series } from '../src/store-api/conformance.js';

const T = Date.UTC(2026, 0, 1);
const POINTS = 300_000;

async function filled(): Promise<MemoryStore> {
  const store = new MemoryStore();
  for (let r = 0; r < POINTS / 10_000; r++) {
    await store.write([series('big', { h: 'a' }, Array.from({ length: 10_000 }, (_, i): [number, number] => [T + (r * 10_000 + i) * 1000, i % 97]))]);
  }
  return store;
}

const QUERY = JSON.stringify({ start_absolute: T, end_absolute: T + POINTS * 1000, metrics: [{ name: 'big' }] });

async function serve(options: Partial<KairosdbOptions>) {
  const app = new Koa();
  app.silent = true;
  const metrics = kairosdb({ store: await filled(), maxInFlightQueries: 1, ...options });
  app.use(metrics);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const query = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/datapoints/query`, { method: 'POST', body: QUERY, headers: { 'content-type': 'application/json' } });
    await res.arrayBuffer().catch(() => undefined);
    return res.status;
  };
  return { port, query, metrics, close: () => { server.closeAllConnections(); server.close(); } };
}

/** Sends the query on a raw connection and never reads the answer (the socket is paused). */
async function stalledReader(port: number): Promise<{ socket: Socket }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`POST /api/v1/datapoints/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(QUERY)}\r\n\r\n${QUERY}`);
  socket.pause();
  socket.on('error', () => undefined);
  return { socket };
}

/** Waits until the mount admits a query again, for at most `ms`; the time it took. */
async function slotFreeWithin(query: () => Promise<number>, ms: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    if ((await query()) === 200) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no query was admitted within ${ms} ms`);
}

/** Reads what the server sent before it cut the connection: a chunked answer without its last chunk. */
async function readRest(socket: Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.resume();
  if (!socket.destroyed) await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

describe('answers a client does not read (#29 row 1)', () => {
  it('the query deadline covers sending: a stalled reader is cut at queryTimeoutMs and its slot freed', async () => {
    const app = await serve({ queryTimeoutMs: 1500, minAnswerBytesPerSecond: 0 });
    const reader = await stalledReader(app.port);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await app.query(), 503, 'the stalled answer holds the only slot meanwhile');
    const freed = await slotFreeWithin(app.query, 5000);
    assert.ok(freed < 3000, `slot freed after ${freed.toFixed(0)} ms`);
    const text = await readRest(reader.socket);
    assert.match(text, /^HTTP\/1.1 200/);
    assert.ok(!text.endsWith('0\r\n\r\n'), 'the answer was cut before its final chunk');
    app.close();
  });

  it('a reader slower than minAnswerBytesPerSecond is cut after the grace period, well before the deadline', async () => {
    const app = await serve({ queryTimeoutMs: 60_000, minAnswerBytesPerSecond: 64 * 1024, bodyRateGraceMs: 500 });
    const reader = await stalledReader(app.port);
    await new Promise((r) => setTimeout(r, 100));
    const freed = await slotFreeWithin(app.query, 10_000);
    assert.ok(freed < 5000, `slot freed after ${freed.toFixed(0)} ms`);
    assert.ok(!(await readRest(reader.socket)).endsWith('0\r\n\r\n'), 'the answer was cut');
    app.close();
  });

  it('a reader at a fair pace gets the whole answer', async () => {
    const app = await serve({ queryTimeoutMs: 60_000, minAnswerBytesPerSecond: 64 * 1024, bodyRateGraceMs: 500 });
    const res = await fetch(`http://127.0.0.1:${app.port}/api/v1/datapoints/query`, { method: 'POST', body: QUERY, headers: { 'content-type': 'application/json' } });
    const answer = (await res.json()) as { queries: { sample_size: number }[] };
    assert.equal(answer.queries[0]?.sample_size, POINTS);
    app.close();
  });

  it('close() ends a stalled answer after its grace period', async () => {
    const app = await serve({ queryTimeoutMs: 60_000, minAnswerBytesPerSecond: 0 });
    const reader = await stalledReader(app.port);
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    await app.metrics.close({ graceMs: 200 });
    const took = performance.now() - started;
    assert.ok(took < 2000, `close() took ${took.toFixed(0)} ms`);
    const text = await readRest(reader.socket);
    assert.ok(!text.endsWith('0\r\n\r\n'), 'the answer was cut');
    app.close();
  });
});
