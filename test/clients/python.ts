import { spawn, spawnSync } from 'node:child_process';
import type { AddressInfo, Server } from 'node:net';
import Koa from 'koa';
import { kairosdb, MemoryStore, type KairosdbOptions } from '../../src/index.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A PyPI package installed into .clients/<dir> on first use: its site directory, or why it cannot be had. */
export function pipPackage(name: string, version: string, module: string, dir: string): { site: string; why?: string } {
  const site = join(root, '.clients', dir);
  if (spawnSync('python3', ['--version']).status !== 0) return { site, why: 'python3 is not installed' };
  if (existsSync(join(site, module))) return { site };
  const pip = spawnSync('python3', ['-m', 'pip', 'install', '-q', '--target', site, `${name}==${version}`], { encoding: 'utf8' });
  return pip.status === 0 ? { site } : { site, why: `pip could not install ${name} ${version}: ${pip.stderr.slice(-500)}` };
}

/** Runs a script of clients/ with the site on PYTHONPATH; resolves with its exit status and output. */
export function runPython(script: string, args: string[], site: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('python3', [join(root, 'clients', script), ...args], { env: { ...process.env, PYTHONPATH: site } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('exit', (status) => resolve({ status, out }));
  });
}

/** A mount on a MemoryStore listening on a free loopback port: its API base URL, and its store. */
export async function serveMount(options: Partial<KairosdbOptions>): Promise<{ base: string; store: MemoryStore; server: Server }> {
  const store = new MemoryStore();
  const app = new Koa();
  app.use(kairosdb({ store, ...options }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`, store, server };
}
