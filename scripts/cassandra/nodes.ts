// Test nodes of Apache Cassandra, started by the project itself: a single node on 127.0.0.1, or a 3-node cluster on
// 127.0.0.1–3. Jars come from Maven Central (pom.xml beside this file), data and logs live under .cassandra/.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import driver from 'cassandra-driver';

export const CASSANDRA_VERSION = '5.0.9';
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../.cassandra');
const lib = join(root, 'lib');

/** One node: where it listens, where it keeps its files, its JMX port and its heap. */
export interface NodeSpec {
  readonly name: string;
  readonly ip: string;
  readonly dir: string;
  readonly jmxPort: number;
  readonly heap: string;
}

export const SINGLE: NodeSpec = { name: 'single', ip: '127.0.0.1', dir: join(root, 'single'), jmxPort: 7199, heap: '1G' };
export const CLUSTER: readonly NodeSpec[] = [1, 2, 3].map((i) => ({ name: `node${i}`, ip: `127.0.0.${i}`, dir: join(root, 'cluster', `node${i}`), jmxPort: 7200 + i, heap: '640M' }));
const SEED = '127.0.0.1:7000';

/** Copies Cassandra and its dependencies into .cassandra/lib with Maven (the local Maven cache makes it fast the second time). */
export function ensureJars(): void {
  if (existsSync(join(lib, `cassandra-all-${CASSANDRA_VERSION}.jar`))) return;
  if (spawnSync('mvn', ['-v'], { stdio: 'ignore' }).status !== 0) throw new Error('Maven (mvn) and a JDK 17 are needed to fetch Cassandra');
  console.log(`fetching Cassandra ${CASSANDRA_VERSION} and its dependencies from Maven Central …`);
  rmSync(lib, { recursive: true, force: true });
  const args = ['-q', '-B', '-f', join(here, 'pom.xml'), 'dependency:copy-dependencies', `-Dcassandra.version=${CASSANDRA_VERSION}`, `-DoutputDirectory=${lib}`, '-DincludeScope=runtime'];
  const result = spawnSync('mvn', args, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`mvn dependency:copy-dependencies failed (exit ${result.status})`);
}

function configFor(node: NodeSpec): string {
  const d = node.dir;
  return `# Written by scripts/cassandra/nodes.ts for a test node; not for production.
cluster_name: koa-kairosdb-test
num_tokens: 16
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
auto_bootstrap: false
data_file_directories: [${d}/data]
commitlog_directory: ${d}/commitlog
saved_caches_directory: ${d}/saved_caches
hints_directory: ${d}/hints
cdc_raw_directory: ${d}/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${SEED}"
listen_address: ${node.ip}
rpc_address: ${node.ip}
storage_port: 7000
native_transport_port: 9042
start_native_transport: true
endpoint_snitch: SimpleSnitch
concurrent_reads: 8
concurrent_writes: 16
concurrent_counter_writes: 4
concurrent_materialized_view_writes: 4
auto_snapshot: false
hinted_handoff_enabled: true
max_hint_window: 3h
write_request_timeout: 2000ms
read_request_timeout: 5000ms
range_request_timeout: 10000ms
request_timeout: 10000ms
`;
}

const LOGBACK = (dir: string) => `<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>${dir}/logs/system.log</file>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
`;

const EXPORTS = ['java.base/jdk.internal.misc', 'java.management.rmi/com.sun.jmx.remote.internal.rmi', 'java.rmi/sun.rmi.registry', 'java.rmi/sun.rmi.server', 'java.sql/java.sql', 'java.base/java.lang.ref', 'jdk.unsupported/sun.misc', 'jdk.compiler/com.sun.tools.javac.file', 'jdk.attach/sun.tools.attach'];
const OPENS = ['java.base/java.lang.module', 'java.base/jdk.internal.loader', 'java.base/jdk.internal.ref', 'java.base/jdk.internal.reflect', 'java.base/jdk.internal.math', 'java.base/jdk.internal.module', 'java.base/jdk.internal.util.jar', 'jdk.management/com.sun.management.internal', 'java.base/sun.nio.ch', 'java.base/java.io', 'java.base/java.lang.reflect', 'jdk.compiler/com.sun.tools.javac', 'java.base/java.lang', 'java.base/java.util'];
const MODULES = [...EXPORTS.flatMap((p) => ['--add-exports', `${p}=ALL-UNNAMED`]), ...OPENS.flatMap((p) => ['--add-opens', `${p}=ALL-UNNAMED`])];

/** Runs Cassandra's nodetool against a node over its local JMX port (e.g. `flush <keyspace>`); returns its exit code. */
export function nodetool(node: NodeSpec, args: string[]): number | null {
  const java = [...MODULES, `-Dcassandra.logdir=${node.dir}/logs`, `-Duser.home=${node.dir}`, '-cp', `${lib}/*`, 'org.apache.cassandra.tools.NodeTool', '-h', '127.0.0.1', '-p', String(node.jmxPort), ...args];
  return spawnSync('java', java, { stdio: 'ignore' }).status;
}

/** The JVM flags of Cassandra's own conf/jvm17-server.options, plus a small heap and test-speed settings. */
function jvmArgs(node: NodeSpec): string[] {
  return [
    `-Xms${node.heap}`,
    `-Xmx${node.heap}`,
    '-Xss256k',
    '-XX:+UseG1GC',
    '-XX:+ParallelRefProcEnabled',
    '-XX:MaxTenuringThreshold=1',
    '-XX:G1HeapRegionSize=16m',
    '-XX:G1RSetUpdatingPauseTimePercent=5',
    '-XX:MaxGCPauseMillis=300',
    '-XX:InitiatingHeapOccupancyPercent=70',
    '-XX:+HeapDumpOnOutOfMemoryError',
    `-XX:HeapDumpPath=${node.dir}/logs`,
    '-XX:+PerfDisableSharedMem',
    '-Djava.net.preferIPv4Stack=true',
    '-Djdk.attach.allowAttachSelf=true',
    ...MODULES,
    '-Dio.netty.tryReflectionSetAccessible=true',
    '-Dio.netty.allocator.useCacheForAllThreads=true',
    '-Dio.netty.allocator.maxOrder=11',
    `-Dcassandra.jmx.local.port=${node.jmxPort}`,
    '-Dcassandra-foreground=yes',
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    '-Dcassandra.superuser_setup_delay_ms=0',
    `-Dcassandra.config=file://${node.dir}/conf/cassandra.yaml`,
    `-Dcassandra.logdir=${node.dir}/logs`,
    `-Dcassandra.storagedir=${node.dir}`,
    `-Dlogback.configurationFile=file://${node.dir}/conf/logback.xml`,
    '-cp',
    `${lib}/*`,
    'org.apache.cassandra.service.CassandraDaemon',
  ];
}

const pidFile = (node: NodeSpec) => join(node.dir, 'cassandra.pid');

/** The pid of the node's process when it runs (and is the Cassandra this script started), else `undefined`. */
export function runningPid(node: NodeSpec): number | undefined {
  if (!existsSync(pidFile(node))) return undefined;
  const pid = Number(readFileSync(pidFile(node), 'utf8'));
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('CassandraDaemon') && cmdline.includes(node.dir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a node unless it runs already, and waits until it answers CQL. */
export async function startNode(node: NodeSpec, timeoutMs = 180_000): Promise<void> {
  if (runningPid(node) !== undefined) {
    await waitForCql(node, timeoutMs);
    return;
  }
  ensureJars();
  for (const sub of ['conf', 'logs', 'data']) mkdirSync(join(node.dir, sub), { recursive: true });
  writeFileSync(join(node.dir, 'conf', 'cassandra.yaml'), configFor(node));
  writeFileSync(join(node.dir, 'conf', 'logback.xml'), LOGBACK(node.dir));
  const out = openSync(join(node.dir, 'logs', 'stdout.log'), 'a');
  const child = spawn('java', jvmArgs(node), { detached: true, stdio: ['ignore', out, out] });
  writeFileSync(pidFile(node), String(child.pid));
  child.unref();
  await waitForCql(node, timeoutMs);
}

/** Stops a node this script started: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopNode(node: NodeSpec, graceMs = 30_000): Promise<void> {
  const pid = runningPid(node);
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (runningPid(node) !== undefined && Date.now() < deadline) await sleep(200);
  if (runningPid(node) !== undefined) process.kill(pid, 'SIGKILL');
  while (runningPid(node) !== undefined) await sleep(100);
  rmSync(pidFile(node), { force: true });
}

/** Sends a signal to a running node (SIGKILL, SIGSTOP, SIGCONT) for fault tests. */
export function signalNode(node: NodeSpec, signal: NodeJS.Signals): void {
  const pid = runningPid(node);
  if (pid === undefined) throw new Error(`${node.name} is not running`);
  process.kill(pid, signal);
}

/** A driver client that talks to one node only. */
export function clientFor(node: NodeSpec): driver.Client {
  const { AllowListPolicy, DCAwareRoundRobinPolicy } = driver.policies.loadBalancing;
  return new driver.Client({
    contactPoints: [node.ip],
    localDataCenter: 'datacenter1',
    policies: { loadBalancing: new AllowListPolicy(new DCAwareRoundRobinPolicy('datacenter1'), [`${node.ip}:9042`]) },
    socketOptions: { connectTimeout: 2000, readTimeout: 10_000 },
  });
}

/** Waits until a node answers CQL; past the timeout throws with the tail of its log. */
export async function waitForCql(node: NodeSpec, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = clientFor(node);
    try {
      await client.execute('SELECT release_version FROM system.local');
      return;
    } catch (error) {
      if (runningPid(node) === undefined) throw new Error(`${node.name} exited while starting:\n${logTail(node)}`);
      if (Date.now() > deadline) throw new Error(`${node.name} did not answer CQL on ${node.ip}:9042 within ${timeoutMs} ms (${(error as Error).message}):\n${logTail(node)}`);
    } finally {
      await client.shutdown().catch(() => {});
    }
    await sleep(1000);
  }
}

/** Waits until every node of the cluster sees the others (UN) and they agree on the schema. */
export async function waitForCluster(nodes: readonly NodeSpec[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const views = await Promise.all(nodes.map((node) => viewOf(node).catch((error: Error) => ({ peers: -1, versions: [error.message] }))));
    const versions = new Set(views.flatMap((v) => v.versions));
    if (views.every((v) => v.peers === nodes.length - 1) && versions.size === 1) return;
    last = JSON.stringify(views);
    await sleep(1000);
  }
  throw new Error(`the cluster did not come up with schema agreement within ${timeoutMs} ms: ${last}`);
}

async function viewOf(node: NodeSpec): Promise<{ peers: number; versions: string[] }> {
  const client = clientFor(node);
  try {
    const local = (await client.execute("SELECT schema_version FROM system.local WHERE key = 'local'")).first();
    const peers = (await client.execute('SELECT peer, schema_version FROM system.peers_v2')).rows;
    return { peers: peers.length, versions: [String(local?.schema_version), ...peers.map((p) => String(p.schema_version))] };
  } finally {
    await client.shutdown().catch(() => {});
  }
}

function logTail(node: NodeSpec): string {
  const lines: string[] = [];
  for (const file of ['system.log', 'stdout.log']) {
    const path = join(node.dir, 'logs', file);
    if (existsSync(path)) lines.push(`--- ${file}`, ...readFileSync(path, 'utf8').split('\n').slice(-30));
  }
  return lines.join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
