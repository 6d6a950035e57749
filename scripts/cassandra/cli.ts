// npm run cassandra:start | cassandra:stop | cassandra:cluster:start | cassandra:cluster:stop | cassandra:status
import { CASSANDRA_VERSION, CLUSTER, runningPid, SINGLE, startNode, stopNode, waitForCluster } from './nodes.js';

const command = process.argv[2];
const started = performance.now();
const took = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;

if (command === 'start') {
  if (CLUSTER.some((n) => runningPid(n) !== undefined)) throw new Error('the 3-node cluster is running on the same ports: npm run cassandra:cluster:stop first');
  await startNode(SINGLE);
  console.log(`Cassandra ${CASSANDRA_VERSION} answers on ${SINGLE.ip}:9042 (${took()}); data and logs in ${SINGLE.dir}`);
} else if (command === 'stop') {
  await stopNode(SINGLE);
  console.log(`stopped (${took()})`);
} else if (command === 'cluster:start') {
  if (runningPid(SINGLE) !== undefined) throw new Error('the single node is running on the same ports: npm run cassandra:stop first');
  for (const node of CLUSTER) {
    await startNode(node);
    console.log(`${node.name} answers on ${node.ip}:9042 (${took()})`);
  }
  await waitForCluster(CLUSTER, 120_000);
  console.log(`3 nodes up, schema in agreement (${took()})`);
} else if (command === 'cluster:stop') {
  await Promise.all(CLUSTER.map((n) => stopNode(n)));
  console.log(`stopped (${took()})`);
} else if (command === 'status') {
  for (const node of [SINGLE, ...CLUSTER]) console.log(`${node.name.padEnd(6)} ${node.ip.padEnd(10)} ${runningPid(node) ?? 'not running'}`);
} else {
  console.error('usage: tsx scripts/cassandra/cli.ts start|stop|cluster:start|cluster:stop|status');
  process.exit(2);
}
process.exit(0);
