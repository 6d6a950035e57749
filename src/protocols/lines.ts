/**
 * TCP listeners of line protocols (telnet, Graphite plaintext): a line is parsed as it arrives, its point gathered
 * with the connection's others and written in batches (the socket paused while a batch is written, so a fast sender
 * waits rather than fills memory). A bad line is counted, logged and dropped; the connection's other lines go on.
 * Bounds: line length (a longer line is dropped up to its end), lines per second per connection (the socket paused
 * for the rest of the second), connections, and idle time.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../logger.js';
import type { SeriesWrite } from '../store-api/contract.js';

/** What one line is: a point (a metric of a KairosDB body), a reply to send back, or why it is refused. */
export type LineResult = { metric: Record<string, unknown> } | { reply: string } | { error: string };

/** Options of a line listener (`listenTelnet`, `listenGraphite`). */
export interface LineListenerOptions {
  /** TCP port. @default 4242 for telnet, 2003 for Graphite */
  port?: number;
  /** Address to listen on. @default '127.0.0.1' (loopback only) */
  host?: string;
  /** Longest line in bytes; a longer one is dropped, and the next line is read as usual. @default 4096 */
  maxLineBytes?: number;
  /** Connections at once; more are closed as they arrive. @default 256 */
  maxConnections?: number;
  /** Lines one connection may send per second; past it the connection is not read until the next second. @default 100000 */
  maxLinesPerSecond?: number;
  /** A connection that sends nothing for this long is closed, ms. @default 300000 */
  idleTimeoutMs?: number;
  /** On a tenant-bound mount: the tenant every point of this listener belongs to (required there). */
  tenant?: string;
}

/** How a listener stores what it parsed: the mount's ingest (validation, tenant stamp) and its store. */
export interface LineSink {
  /** The series of valid metrics, and how many metrics were refused (with the first reason). */
  seriesOf(metrics: Record<string, unknown>[]): Promise<{ series: SeriesWrite[]; refused: number; reason?: string }>;
  write(series: SeriesWrite[]): Promise<void>;
  /** Different tag names one batch may hold (`maxNamesPerBody`): a line bringing more is refused. */
  readonly maxNames: number;
  /** Counts lines by outcome (`stored`, `invalid`, `too_long`, `failed`, `refused_connection`). */
  count(outcome: string, n: number): void;
  readonly logger: Logger;
}

/** Points gathered before a batch is written at once; else it is written 10 ms after its first point. */
const BATCH_POINTS = 5000;
const BATCH_MS = 10;

/** Starts a listener; resolves once it listens (rejects when it cannot, e.g. the port is taken). */
export async function listenLines(protocol: string, parse: (words: string[]) => LineResult, options: LineListenerOptions, defaultPort: number, sink: LineSink): Promise<Server> {
  const settings = {
    maxLineBytes: options.maxLineBytes ?? 4096,
    maxConnections: options.maxConnections ?? 256,
    maxLinesPerSecond: options.maxLinesPerSecond ?? 100_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`listen ${protocol}: options.${name} must be a positive integer, got ${String(value)}`);
  }
  const warn = rateLimitedWarning(sink.logger, protocol);
  const connections = new Set<LineConnection>();
  const server = createServer((socket) => {
    if (connections.size >= settings.maxConnections) {
      sink.count('refused_connection', 1);
      warn(`more than ${settings.maxConnections} connections (maxConnections): closed one from ${socket.remoteAddress}`);
      socket.destroy();
      return;
    }
    const connection = new LineConnection(socket, parse, settings, sink, warn);
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  });
  // Closing the server also ends its connections (senders keep theirs open for good), once their points are written.
  const close = server.close.bind(server);
  server.close = (callback?: (error?: Error) => void) => {
    close(callback);
    for (const connection of connections) void connection.shutdown();
    return server;
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? defaultPort, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => sink.logger.error({ err: error }, `koa-kairosdb: ${protocol} listener failed`));
  return server;
}

/** One connection: framing, limits, batching. */
class LineConnection {
  #partial: Buffer[] = [];
  #partialBytes = 0;
  /** Inside a line longer than the limit: everything up to its end is dropped. */
  #dropping = false;
  #pending: Record<string, unknown>[] = [];
  /**
   * The tag names of the pending batch: a batch of 5,000 lines of 49 new tag names each held the event loop 144 ms
   * as the ingest built their objects (see json-names.ts).
   */
  #names = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #writing = false;
  #ended = false;
  /** Lines this connection may still read at once: a bucket of `maxLinesPerSecond`, refilled as time passes. */
  #tokens = Number.NaN;
  #refilled = 0;
  #ratePaused = false;
  /** The rest of a chunk not read yet (the connection's allowance was spent). */
  #held: Buffer | undefined;

  constructor(
    readonly socket: Socket,
    readonly parse: (words: string[]) => LineResult,
    readonly settings: { maxLineBytes: number; maxLinesPerSecond: number; idleTimeoutMs: number },
    readonly sink: LineSink,
    readonly warn: (message: string) => void,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(settings.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.#feed(chunk));
    socket.on('end', () => {
      if (!this.#dropping && this.#partialBytes > 0) this.#line(Buffer.concat(this.#partial));
      this.#partial = [];
      this.#ended = true;
      void this.#flush();
      socket.end();
    });
    socket.on('error', () => socket.destroy());
  }

  /** Stops reading, writes the points gathered, and closes the connection. */
  async shutdown(): Promise<void> {
    this.#ended = true;
    this.socket.pause();
    await this.#flush();
    this.socket.destroy();
  }

  /** Reads the lines of a chunk; past the second's allowance, the rest waits in `#held` until the next second. */
  #feed(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (this.#ratePaused) {
        this.#held = chunk.subarray(start);
        return;
      }
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.#dropping || this.#partialBytes + piece.length > this.settings.maxLineBytes) {
        this.#tooLong();
        this.#dropping = false;
        this.#partial = [];
        this.#partialBytes = 0;
        continue;
      }
      const line = this.#partialBytes === 0 ? piece : Buffer.concat([...this.#partial, piece]);
      this.#partial = [];
      this.#partialBytes = 0;
      this.#line(line);
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0 || this.#dropping) return;
    if (this.#partialBytes + rest.length > this.settings.maxLineBytes) {
      this.#dropping = true;
      this.#partial = [];
      this.#partialBytes = 0;
      return;
    }
    this.#partial.push(Buffer.from(rest));
    this.#partialBytes += rest.length;
  }

  #tooLong(): void {
    this.sink.count('too_long', 1);
    this.warn(`a line over ${this.settings.maxLineBytes} bytes (maxLineBytes) was dropped`);
  }

  #line(bytes: Buffer): void {
    this.#limitRate();
    const words = bytes.toString('utf8').trim().split(/\s+/);
    const result = words[0] === '' ? { error: 'empty line' } : this.#parse(words);
    if ('reply' in result) {
      if (!this.socket.destroyed) this.socket.write(result.reply);
    } else if ('error' in result || !this.#admitNames(result.metric)) {
      this.sink.count('invalid', 1);
      this.warn(`line refused: ${'error' in result ? result.error : `more than ${this.sink.maxNames} different tag names in one batch (maxNamesPerBody)`}`);
    } else {
      this.#pending.push(result.metric);
      if (this.#pending.length >= BATCH_POINTS) void this.#flush();
      else this.#timer ??= setTimeout(() => void this.#flush(), BATCH_MS);
    }
  }

  /** Whether the batch can take the metric's tag names (counted with it then). */
  #admitNames(metric: Record<string, unknown>): boolean {
    const tags = metric.tags;
    if (typeof tags !== 'object' || tags === null) return true;
    let fresh = 0;
    for (const name in tags) if (!this.#names.has(name)) fresh++;
    if (this.#names.size + fresh > this.sink.maxNames) return false;
    for (const name in tags) this.#names.add(name);
    return true;
  }

  /** The line's result; a parser that throws (a host's Graphite mapping) refuses the line instead. */
  #parse(words: string[]): LineResult {
    try {
      return this.parse(words);
    } catch (error) {
      return { error: `the line could not be read: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  /**
   * Counts the line against the connection's allowance (a token bucket of `maxLinesPerSecond`, so no second of
   * reading takes in more than that after the first burst); when it runs out, stops reading for at least RATE_WAIT_MS.
   * Fixed one-second windows let twice the rate through across a window's edge.
   */
  #limitRate(): void {
    const rate = this.settings.maxLinesPerSecond;
    const now = performance.now();
    if (Number.isNaN(this.#tokens)) this.#tokens = rate;
    else this.#tokens = Math.min(rate, this.#tokens + ((now - this.#refilled) * rate) / 1000);
    this.#refilled = now;
    this.#tokens -= 1;
    if (this.#tokens >= 1 || this.#ratePaused) return;
    this.#ratePaused = true;
    this.socket.pause();
    setTimeout(() => {
      this.#ratePaused = false;
      const held = this.#held;
      this.#held = undefined;
      if (held) this.#feed(held);
      if (!this.#writing && !this.#ratePaused && !this.#ended) this.socket.resume();
    }, Math.max(RATE_WAIT_MS, ((1 - this.#tokens) * 1000) / rate));
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#writing || this.#pending.length === 0) return;
    const metrics = this.#pending;
    this.#pending = [];
    this.#names = new Set();
    this.#writing = true;
    this.socket.pause();
    try {
      const { series, refused, reason } = await this.sink.seriesOf(metrics);
      if (refused > 0) {
        this.sink.count('invalid', refused);
        this.warn(`${refused} line(s) refused: ${reason ?? 'invalid'}`);
      }
      if (series.length > 0) await this.sink.write(series);
      this.sink.count('stored', metrics.length - refused);
    } catch (error) {
      this.sink.count('failed', metrics.length);
      this.sink.logger.error({ err: error, lines: metrics.length }, 'koa-kairosdb: points of a line protocol could not be stored (they are lost: the protocol has no acknowledgement)');
    } finally {
      this.#writing = false;
      if (!this.#ratePaused && !this.#ended && !this.#held) this.socket.resume();
      if (this.#pending.length > 0) void this.#flush();
    }
  }
}

/** A warning logged at most once a second, with how many were left out meanwhile. */
function rateLimitedWarning(logger: Logger, protocol: string): (message: string) => void {
  let last = Number.NEGATIVE_INFINITY;
  let skipped = 0;
  return (message) => {
    const now = performance.now();
    if (now - last < 1000) {
      skipped++;
      return;
    }
    last = now;
    logger.warn({ skipped }, `koa-kairosdb: ${protocol}: ${message}`);
    skipped = 0;
  };
}

/** Shortest pause of a connection past its line rate: it then reads what the bucket refilled meanwhile. */
const RATE_WAIT_MS = 10;
