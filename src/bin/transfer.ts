#!/usr/bin/env node
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createGunzip, createGzip } from 'node:zlib';
import { closest } from '../option-keys.js';
import type { CassandraStore } from '../stores/cassandra/store.js';
import type { Store } from '../store-api/contract.js';
import { exportData } from '../transfer/export.js';
import { importData } from '../transfer/import.js';
import type { TransferProgress } from '../transfer/progress.js';
import { TypeRegistry } from '../types/registry.js';
import { VERSION } from '../version.js';

const USAGE = `Usage: koa-kairosdb export|import|migrate --store STORE [options]
Moves data points in KairosDB's export format (one JSON object per line, as kairosdb.sh export writes), with
their TTLs, between stores: export from one, import into another (or into KairosDB itself).
migrate (Cassandra): moves the points of a keyspace written before layout 3 from data_points into compressed
chunks, online (apps keep reading and writing), then compacts them; run it again if it is interrupted.

  --store STORE            sqlite:PATH, or cassandra:HOST[,HOST...][/KEYSPACE] (keyspace kairosdb by default)
  --local-dc DC            Cassandra's local data center (default datacenter1)
  -f, --file FILE          export: write here (a name ending .gz is gzipped), else standard output
                           import: read from here, else standard input (gzip is recognised either way)
  -n, --metric NAME        export: only this metric; repeat for more (default every metric)
  --gzip                   export: gzip standard output
  --types MODULE           a module whose default (or 'types') export is the TypeRegistry of your custom types
  --points-per-line N      export: most points in one line (default 10000)
  --quiet                  no progress line (it is shown when standard error is a terminal)
  -h, --help               this text
  -v, --version            the package version
`;

const FLAGS = {
  store: { type: 'string' },
  'local-dc': { type: 'string' },
  file: { type: 'string', short: 'f' },
  metric: { type: 'string', short: 'n', multiple: true },
  gzip: { type: 'boolean' },
  types: { type: 'string' },
  'points-per-line': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof FLAGS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

function parse(args: string[]): { command: string; values: Values } {
  for (const arg of args) {
    const name = /^--([^=]+)/.exec(arg)?.[1];
    if (name === undefined || Object.hasOwn(FLAGS, name)) continue;
    const guess = closest(name, Object.keys(FLAGS));
    throw new UsageError(`unknown option '--${name}'${guess ? `; did you mean '--${guess}'?` : ''}`);
  }
  const { values, positionals } = parseArgs({ args, options: FLAGS, allowPositionals: true });
  const command = positionals[0] ?? '';
  if (values.help || values.version) return { command, values };
  if (command !== 'export' && command !== 'import' && command !== 'migrate') throw new UsageError(command ? `unknown command '${command}'; give export or import (or migrate, for Cassandra)` : 'give a command: export or import (or migrate, for Cassandra)');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  if (values.store === undefined) throw new UsageError('give --store (sqlite:PATH or cassandra:HOSTS/KEYSPACE)');
  if (command === 'migrate' && !values.store.startsWith('cassandra:')) throw new UsageError('migrate takes a Cassandra store: --store cassandra:HOSTS/KEYSPACE');
  return { command, values };
}

/** Opens the store a `--store` value names (its driver loaded only then). */
async function openStore(spec: string, localDataCenter: string, creating: boolean): Promise<Store> {
  const [kind, rest = ''] = spec.split(/:(.*)/s);
  if (kind === 'sqlite' && rest !== '') {
    if (!creating && rest !== ':memory:' && !exists(rest)) throw new Error(`no SQLite file at '${rest}'`);
    const { SqliteStore } = await import('../sqlite.js');
    return new SqliteStore({ path: rest });
  }
  if (kind === 'cassandra' && rest !== '') {
    const [hosts = '', keyspace = 'kairosdb'] = rest.split('/');
    const { CassandraStore } = await import('../cassandra.js');
    const store = new CassandraStore({ contactPoints: hosts.split(','), localDataCenter, keyspace, createSchema: creating });
    await store.init();
    return store;
  }
  throw new UsageError(`--store takes sqlite:PATH or cassandra:HOST[,HOST...][/KEYSPACE], got '${spec}'`);
}

const exists = (path: string) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

async function loadTypes(module: string | undefined): Promise<TypeRegistry | undefined> {
  if (module === undefined) return undefined;
  const loaded = (await import(pathToFileURL(resolve(module)).href)) as { default?: unknown; types?: unknown };
  const types = loaded.types ?? loaded.default;
  if (!(types instanceof TypeRegistry)) throw new UsageError(`--types ${module}: its default or 'types' export is not a TypeRegistry`);
  return types;
}

/** A progress line on standard error, rewritten in place. */
function progressLine(verb: string, quiet: boolean, totalBytes?: number): ((p: TransferProgress) => void) | undefined {
  if (quiet || !process.stderr.isTTY) return undefined;
  return (p) => {
    const seconds = p.elapsedMs / 1000;
    const rate = seconds > 0 ? p.points / seconds : 0;
    const done = totalBytes ? p.bytes / totalBytes : p.metricsTotal ? p.metricsDone / p.metricsTotal : 0;
    const eta = done > 0 && done < 1 ? ` — ETA ${duration((seconds / done) * (1 - done))}` : '';
    const of = p.metricsTotal ? `, ${p.metricsDone}/${p.metricsTotal} metrics` : totalBytes ? `, ${Math.round(done * 100)} % of the file` : '';
    process.stderr.write(`\r${verb} ${p.points.toLocaleString('en')} points${of} — ${Math.round(rate).toLocaleString('en')} points/s${eta}\x1b[K`);
  };
}

const duration = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m ${Math.round(s % 60)}s` : `${Math.round(s)}s`);

async function runExport(store: Store, values: Values): Promise<TransferProgress> {
  const file = values.file;
  const gzip = values.gzip === true || (file?.endsWith('.gz') ?? false);
  const partial = file && `${file}.partial`;
  const sink: Writable = partial ? createWriteStream(partial) : process.stdout;
  const out = gzip ? createGzip() : new PassThrough();
  const piped = pipeline(out, sink, { end: partial !== undefined });
  try {
    const perLine = values['points-per-line'];
    if (perLine !== undefined && !/^[1-9]\d{0,8}$/.test(perLine)) throw new UsageError(`--points-per-line takes a whole number ≥ 1, got '${perLine}'`);
    const types = await loadTypes(values.types);
    const totals = await exportData(store, out, {
      ...(values.metric && { metrics: values.metric }),
      ...(types && { types }),
      ...(perLine && { pointsPerLine: Number(perLine) }),
      ...withProgress(progressLine('exported', values.quiet === true)),
    });
    out.end();
    await piped;
    if (partial) renameSync(partial, file);
    return totals;
  } catch (error) {
    out.destroy();
    await piped.catch(() => undefined);
    if (partial) rmSync(partial, { force: true });
    throw error;
  }
}

async function runImport(store: Store, values: Values): Promise<TransferProgress> {
  const file = values.file;
  if (file !== undefined && !exists(file)) throw new Error(`no file at '${file}'`);
  const source: Readable = file ? createReadStream(file) : process.stdin;
  const types = await loadTypes(values.types);
  const counted = { bytes: 0 };
  source.on('data', (chunk: Buffer) => (counted.bytes += chunk.length));
  const input = await gunzipIfGzip(source);
  const show = progressLine('imported', values.quiet === true, file ? statSync(file).size : undefined);
  return importData(store, input, { ...(types && { types }), ...withProgress(show && ((p) => show({ ...p, bytes: counted.bytes }))) });
}

const withProgress = (onProgress: ((p: TransferProgress) => void) | undefined) => (onProgress ? { onProgress } : {});

/** The stream itself, or its gunzipped bytes when it starts with gzip's magic number. */
async function gunzipIfGzip(source: Readable): Promise<AsyncIterable<Buffer>> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  async function* whole(): AsyncGenerator<Buffer> {
    if (first.done) return;
    yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  if (first.done || first.value[0] !== 0x1f || first.value[1] !== 0x8b) return whole();
  const gunzip = createGunzip();
  void pipeline(whole(), gunzip).catch((error: unknown) => gunzip.destroy(error as Error));
  return gunzip;
}

/** Layout 2's points into chunks, then those buckets compacted; says what it moved. */
async function runMigrate(store: CassandraStore, quiet: boolean): Promise<void> {
  const started = performance.now();
  const show = !quiet && process.stderr.isTTY;
  const moved = await store.migrate(show ? (m) => process.stderr.write(`\rmoved ${m.points.toLocaleString('en')} points in ${m.partitions.toLocaleString('en')} partitions\x1b[K`) : undefined);
  if (show) process.stderr.write('\n');
  const compacted = moved.points > 0 ? await store.compact() : { partitions: 0, merged: 0 };
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`koa-kairosdb: migrated ${moved.points} points in ${moved.partitions} partitions (a series' bucket each) into chunks, then merged ${compacted.merged} chunks in ${compacted.partitions} partitions, in ${seconds} s\n`);
}

async function main(): Promise<void> {
  let store: Store | undefined;
  try {
    const { command, values } = parse(process.argv.slice(2));
    if (values.help) return void process.stdout.write(USAGE);
    if (values.version) return void process.stdout.write(`${VERSION}\n`);
    store = await openStore(values.store as string, values['local-dc'] ?? 'datacenter1', command !== 'export');
    if (command === 'migrate') return await runMigrate(store as CassandraStore, values.quiet === true);
    const totals = command === 'export' ? await runExport(store, values) : await runImport(store, values);
    if (process.stderr.isTTY && values.quiet !== true) process.stderr.write('\n');
    const seconds = (totals.elapsedMs / 1000).toFixed(1);
    process.stderr.write(`koa-kairosdb: ${command}ed ${totals.points} points (${command === 'export' ? `${totals.series} series` : `${totals.series} lines`}) in ${seconds} s\n`);
  } catch (error) {
    const message = (error as Error).message;
    process.stderr.write(`koa-kairosdb: ${message}\n${error instanceof UsageError ? 'Run koa-kairosdb --help for the options.\n' : ''}`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  } finally {
    await store?.close().catch(() => undefined);
  }
}

await main();
