// Fetches and prepares the third-party KairosDB clients of the interop suite (npm run test:clients) into .clients/:
// the official Java client from Maven Central, python-kairosdb from PyPI (patched: 0.2.1 does not import on
// Python 3), and go-kairosdb from the Go module proxy when it is served. Each returns how to run its scenarios,
// or why it cannot here.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = join(root, '.clients');

export const VERSIONS = { java: 'org.kairosdb:client 3.1.1', python: 'python-kairosdb 0.2.1', pythonFeatures: 'kairosdb-python 0.0.1', go: 'github.com/ajityagaty/go-kairosdb (latest)' };

/** How to run one client's scenarios against a base URL, or why not. */
export type Client = { ready: true; run: (baseUrl: string) => { command: string; args: string[]; cwd: string; env?: NodeJS.ProcessEnv } } | { ready: false; why: string };

const has = (command: string, args = ['--version']) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

function sh(command: string, args: string[], cwd = root): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 600_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`.slice(0, 4000));
}

export function javaClient(): Client {
  if (!has('java', ['-version']) || !has('mvn')) return { ready: false, why: 'java and mvn are not installed (apt-get install openjdk-17-jdk-headless maven)' };
  const classpath = join(work, 'java-classpath.txt');
  if (!existsSync(classpath)) {
    mkdirSync(work, { recursive: true });
    sh('mvn', ['-q', '-f', join(root, 'clients/java/pom.xml'), 'dependency:build-classpath', `-Dmdep.outputFile=${classpath}`]);
  }
  const cp = readFileSync(classpath, 'utf8').trim();
  return { ready: true, run: (baseUrl) => ({ command: 'java', args: ['-cp', cp, 'Scenarios.java', baseUrl], cwd: join(root, 'clients/java') }) };
}

export function pythonClient(): Client {
  if (!has('python3')) return { ready: false, why: 'python3 is not installed' };
  const site = join(work, 'python');
  if (!existsSync(join(site, 'kairosdb', '__init__.py'))) {
    const download = join(work, 'python-download');
    rmSync(download, { recursive: true, force: true });
    sh('python3', ['-m', 'pip', 'download', '-q', 'python-kairosdb==0.2.1', '--no-deps', '--no-binary', ':all:', '-d', download]);
    const archive = readdirSync(download).find((f) => f.endsWith('.tar.gz'));
    if (!archive) throw new Error('pip downloaded no python-kairosdb source archive');
    sh('tar', ['-xzf', join(download, archive), '-C', download]);
    mkdirSync(site, { recursive: true });
    cpSync(join(download, archive.replace(/\.tar\.gz$/, ''), 'kairosdb'), join(site, 'kairosdb'), { recursive: true });
    patchPython(join(site, 'kairosdb', '__init__.py'));
    if (spawnSync('python3', ['-c', 'import requests'], { stdio: 'ignore' }).status !== 0) {
      sh('python3', ['-m', 'pip', 'install', '-q', '--target', site, 'requests']);
    }
  }
  return { ready: true, run: (baseUrl) => ({ command: 'python3', args: ['scenarios.py', `${baseUrl}/api/v1`], cwd: join(root, 'clients/python'), env: { ...process.env, PYTHONPATH: site } }) };
}

/**
 * kairosdb-python 0.0.1, the Python package with a `/features` call: it declares no requirements, so httpx and pandas
 * (which it imports) are installed beside it, in a directory of their own (its module is `kairosdb` too).
 */
export function pythonFeaturesClient(): Client {
  if (!has('python3')) return { ready: false, why: 'python3 is not installed' };
  const site = join(work, 'python-features');
  if (!existsSync(join(site, 'kairosdb', '_api.py'))) {
    rmSync(site, { recursive: true, force: true });
    sh('python3', ['-m', 'pip', 'install', '-q', '--target', site, 'kairosdb-python==0.0.1', 'httpx', 'pandas']);
  }
  return { ready: true, run: (baseUrl) => ({ command: 'python3', args: ['scenarios.py', baseUrl], cwd: join(root, 'clients/python-features'), env: { ...process.env, PYTHONPATH: site } }) };
}

/**
 * python-kairosdb 0.2.1 declares `global LOG` after reading LOG inside basic_logger(), a SyntaxError on Python 3:
 * the declaration moves to the top of the function (nothing else changes).
 */
function patchPython(file: string): void {
  const text = readFileSync(file, 'utf8');
  const patched = text.replace('        global LOG\n        LOG = logger', '        LOG = logger').replace('    """\n    if not LOG:', '    """\n    global LOG\n    if not LOG:');
  if (patched === text) throw new Error(`python-kairosdb: the known 'global LOG' defect was not found in ${file}; check the version`);
  writeFileSync(file, patched);
}

export function goClient(): Client {
  if (!has('go', ['version'])) return { ready: false, why: 'go is not installed' };
  const listed = spawnSync('go', ['list', '-m', '-versions', 'github.com/ajityagaty/go-kairosdb'], { encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod' }, cwd: root, timeout: 120_000 });
  if (listed.status === 0) throw new Error(`go-kairosdb is served now (${listed.stdout.trim()}): write its scenarios in clients/go`);
  const why = (listed.stderr || listed.stdout).trim().split('\n').pop()?.trim() ?? '';
  return { ready: false, why: `github.com/ajityagaty/go-kairosdb is not served by the Go module proxy this machine reaches (${why})` };
}
