// Fault tests on the project's 3-node cluster (npm run cassandra:cluster:start; then npm run test:cluster): RF 3,
// writes at LOCAL_QUORUM, 8 clients ingesting through the middleware over HTTP while nodes are killed, stopped and
// brought back. Every acknowledged point must be read back.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { CLUSTER, runningPid, signalNode, startNode, waitForCluster, type NodeSpec } from '../../scripts/cassandra/nodes.js';
import { CassandraStore } from '../../src/cassandra.js';
import { kairosdb } from '../../src/index.js';
import { readAll } from '../../src/store-api/conformance.js';

const up = CLUSTER.every((n) => runningPid(n) !== undefined);
const SKIP = 'the 3-node cluster is not running: npm run cassandra:cluster:start, then npm run test:cluster';
const [node1, node2, node3] = CLUSTER as [NodeSpec, NodeSpec, NodeSpec];
const WRITE_TIMEOUT_MS = 4000;
const POINTS = 50;

if (!up) {
  describe('Cassandra cluster faults', () => {
    it('needs the 3-node cluster', { skip: process.env.CASSANDRA_REQUIRED === '1' ? false : SKIP }, () => assert.fail(`CASSANDRA_REQUIRED=1 but ${SKIP}`));
  });
} else {
  const keyspace = `koa_kairosdb_faults_${Date.now() % 1_000_000}`;
  let store: CassandraStore;
  let url = '';
  let server: ReturnType<Koa['listen']>;
  const acked = new Map<string, number[]>();
  let clock = Date.UTC(2026, 0, 1);

  before(async () => {
    store = new CassandraStore({
      clientOptions: { contactPoints: CLUSTER.map((n) => n.ip), localDataCenter: 'datacenter1', socketOptions: { readTimeout: 3000 } },
      keyspace,
      createSchema: true,
      replication: { class: 'SimpleStrategy', replication_factor: 3 },
    });
    await store.init();
    const app = new Koa();
    app.use(kairosdb({ store, writeTimeoutMs: WRITE_TIMEOUT_MS, maxInFlightRequests: 16 }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const node of CLUSTER) if (runningPid(node) !== undefined) signalNode(node, 'SIGCONT');
    server?.closeAllConnections();
    server?.close();
    await store?.close();
  });

  /** 8 clients post POINTS new points each per request for `ms`; returns the statuses and slowest answer. */
  async function ingest(ms: number, label: string) {
    const statuses: Record<string, number> = {};
    let slowest = 0;
    let retryAfterMissing = 0;
    const deadline = Date.now() + ms;
    await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        const client = `c${c}`;
        while (Date.now() < deadline) {
          const timestamps = Array.from({ length: POINTS }, () => (clock += 1));
          const body = JSON.stringify([{ name: 'fault', tags: { client }, datapoints: timestamps.map((ts) => [ts, ts % 1000]) }]);
          const started = performance.now();
          const res = await fetch(`${url}/api/v1/datapoints`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
          await res.text();
          slowest = Math.max(slowest, performance.now() - started);
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.status === 503 && !res.headers.get('retry-after')) retryAfterMissing++;
          if (res.status === 204) acked.set(client, [...(acked.get(client) ?? []), ...timestamps]);
          else await new Promise((r) => setTimeout(r, 100));
        }
      }),
    );
    console.log(`${label}: statuses ${JSON.stringify(statuses)}, slowest answer ${slowest.toFixed(0)} ms`);
    return { statuses, slowest, retryAfterMissing };
  }

  /** Acknowledged, stored and lost points over the whole run so far. */
  async function count() {
    let ackedPoints = 0;
    let lost = 0;
    let stored = 0;
    for (const s of await readAll(store, { metric: 'fault' })) {
      const have = new Set(s.points.map(([ts]) => ts));
      stored += have.size;
      const mine = acked.get(s.tags.client as string) ?? [];
      ackedPoints += mine.length;
      lost += mine.filter((ts) => !have.has(ts)).length;
    }
    for (const [client, points] of acked) if (!(await readAll(store, { metric: 'fault', tags: { client: [client] } })).length) lost += points.length;
    return { acked: ackedPoints, stored, lost };
  }

  async function restart(...nodes: NodeSpec[]) {
    for (const node of nodes) await startNode(node);
    await waitForCluster(CLUSTER, 120_000);
  }

  describe('Cassandra cluster faults (RF 3, LOCAL_QUORUM, through the middleware)', () => {
    it('two app instances starting at once against a fresh keyspace both come up, through different nodes', async () => {
      const fresh = `koa_kairosdb_race_${Date.now() % 1_000_000}`;
      const instances = [node1, node3].map(
        (node) =>
          new CassandraStore({
            clientOptions: { contactPoints: [node.ip], localDataCenter: 'datacenter1' },
            keyspace: fresh,
            createSchema: true,
            replication: { class: 'SimpleStrategy', replication_factor: 3 },
          }),
      );
      try {
        await Promise.all(instances.map((i) => i.init()));
        await instances[0]!.write([{ metric: 'race', tags: { h: 'a' }, type: 'long', storage: 'long', ttl: 0, timestamps: [1], values: [1] }]);
        assert.deepEqual((await readAll(instances[1]!, { metric: 'race' }))[0]?.points, [[1, 1]]);
      } finally {
        await Promise.all(instances.map((i) => i.close()));
      }
    });

    it('one node killed while 8 clients ingest: every request 204, and nothing acknowledged is lost', async () => {
      const killing = (async () => {
        await new Promise((r) => setTimeout(r, 1500));
        signalNode(node3, 'SIGKILL');
      })();
      const run = await ingest(6000, 'node3 killed');
      await killing;
      assert.deepEqual(Object.keys(run.statuses), ['204']);
      await restart(node3);
      const counts = await count();
      console.log(`after node3 returned: ${JSON.stringify(counts)}`);
      assert.equal(counts.lost, 0);
      assert.ok(counts.acked > 0 && counts.stored >= counts.acked);
    });

    it('two nodes killed: writes and reads answer 503 with Retry-After, never 204 or 500', async () => {
      signalNode(node2, 'SIGKILL');
      signalNode(node3, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 1000));
      const ackedBefore = [...acked.values()].reduce((n, points) => n + points.length, 0);
      const run = await ingest(4000, 'node2 and node3 killed');
      assert.deepEqual(Object.keys(run.statuses), ['503']);
      assert.equal(run.retryAfterMissing, 0);
      assert.equal([...acked.values()].reduce((n, points) => n + points.length, 0), ackedBefore);
      const read = await fetch(`${url}/api/v1/datapoints/query`, { method: 'POST', body: JSON.stringify({ start_absolute: 0, metrics: [{ name: 'fault' }] }) });
      assert.equal(read.status, 503, await read.text());
      assert.ok(read.headers.get('retry-after'));
    });

    it('nodes restarted: the same app ingests again without a restart, nothing lost', async () => {
      await restart(node2, node3);
      const deadline = Date.now() + 60_000;
      let ok = false;
      while (!ok && Date.now() < deadline) {
        const res = await fetch(`${url}/api/v1/datapoints`, { method: 'POST', body: JSON.stringify([{ name: 'fault', tags: { client: 'probe' }, timestamp: (clock += 1), value: 1 }]) });
        ok = res.status === 204;
        if (!ok) await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(ok, 'no write succeeded within 60 s of the nodes coming back');
      const run = await ingest(4000, 'nodes back');
      assert.deepEqual(Object.keys(run.statuses), ['204']);
      const counts = await count();
      console.log(`after the restart: ${JSON.stringify(counts)}`);
      assert.equal(counts.lost, 0);
    });

    it('a stalled node (SIGSTOP): every request ends within writeTimeoutMs as 204 or 503, and SIGCONT recovers', async () => {
      signalNode(node2, 'SIGSTOP');
      let run;
      try {
        run = await ingest(6000, 'node2 stalled');
      } finally {
        signalNode(node2, 'SIGCONT');
      }
      assert.ok(Object.keys(run.statuses).every((s) => s === '204' || s === '503'), JSON.stringify(run.statuses));
      assert.equal(run.retryAfterMissing, 0);
      assert.ok(run.slowest < WRITE_TIMEOUT_MS + 1500, `slowest answer ${run.slowest.toFixed(0)} ms`);
      await waitForCluster(CLUSTER, 60_000);
      const recovered = await ingest(3000, 'node2 resumed');
      assert.deepEqual(Object.keys(recovered.statuses), ['204']);
      const counts = await count();
      console.log(`after SIGCONT: ${JSON.stringify(counts)}`);
      assert.equal(counts.lost, 0);
    });

    it('a compaction interrupted by two nodes killed converges once they are back: nothing lost, nothing left to merge', async () => {
      // 300 series of 12 small chunks each, in a closed bucket (2026-01-01), beside the ingested ones.
      const written = new Map<string, [number, number][]>();
      for (let r = 0; r < 12; r++) {
        const batch = Array.from({ length: 300 }, (_, i) => {
          const pts: [number, number][] = [[Date.UTC(2026, 0, 1, 1) + r * 1000 + i, r]];
          written.set(`s${i}`, [...(written.get(`s${i}`) ?? []), ...pts]);
          return { metric: 'fault.compact', tags: { s: `s${i}` }, type: 'long', storage: 'long' as const, ttl: 0, timestamps: pts.map(([t]) => t), values: pts.map(([, v]) => v) };
        });
        await store.write(batch);
      }
      const compaction = store.compact({ metrics: ['fault.compact', 'fault'] });
      await new Promise((r) => setTimeout(r, 300));
      signalNode(node2, 'SIGKILL');
      signalNode(node3, 'SIGKILL');
      const interrupted = await compaction.then(
        (done) => `completed before the kill: ${JSON.stringify(done)}`,
        (error: Error) => `failed: ${error.message}`,
      );
      console.log(`compaction with node2 and node3 killed: ${interrupted}`);
      await restart(node2, node3);
      let done: { partitions: number; merged: number } | undefined;
      // A merge writes its output on every replica (compactionConsistency ALL): it waits for all three to answer.
      const back = Date.now();
      const deadline = back + 120_000;
      while (!done && Date.now() < deadline) {
        done = await store.compact({ metrics: ['fault.compact', 'fault'] }).catch(() => undefined);
        if (!done) await new Promise((r) => setTimeout(r, 1000));
      }
      assert.ok(done, 'no compaction completed within 120 s of the nodes coming back');
      console.log(`compaction completed ${((Date.now() - back) / 1000).toFixed(1)} s after the nodes came back`);
      const got = await readAll(store, { metric: 'fault.compact' });
      assert.equal(got.length, 300);
      for (const s of got) assert.deepEqual(s.points, written.get(s.tags.s as string), s.tags.s);
      const counts = await count();
      console.log(`after the compaction: ${JSON.stringify(counts)}`);
      assert.equal(counts.lost, 0);
      assert.equal((await store.compact({ metrics: ['fault.compact', 'fault'] })).merged, 0, 'converged');
    });
  });
}
