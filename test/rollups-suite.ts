// KairosDB's Roll-ups API and the runner through the mount, on any store (memory and SQLite in test/rollups.test.ts,
// the real Cassandra node in test/integration/cassandra.test.ts). The runner reads the mount's clock: each test sets
// the time and waits for the runner's next poll.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { kairosdb, type KairosdbOptions, type Store } from '../src/index.js';
import { readAll } from '../src/store-api/conformance.js';
import { RollupTasks } from '../src/rollups/tasks.js';
import type { MetadataStore } from '../src/store-api/contract.js';
import { wrapStore } from './helpers.js';

const T = Date.UTC(2024, 0, 1);
const MIN = 60_000;

/** A roll-up task body: 1-minute sums of `metric` by host, every minute (KairosDB's documented shape). */
export function taskBody(metric: string, saveAs: string, extra: Record<string, unknown> = {}) {
  return {
    name: `sums of ${metric}`,
    execution_interval: { value: 1, unit: 'minutes' },
    rollups: [{ save_as: saveAs, query: { start_relative: { value: 1, unit: 'hours' }, metrics: [{ name: metric, group_by: [{ name: 'tag', tags: ['host'] }], aggregators: [{ name: 'sum', sampling: { value: 1, unit: 'minutes' } }] }] } }],
    ...extra,
  };
}

/** The periods a logger saw rolled up, as `saveAs@start`. */
export function periodLogger() {
  const periods: string[] = [];
  const errors: unknown[] = [];
  const behind: unknown[] = [];
  const logger = {
    info: (fields: { rollup?: string; start?: number }, message: string) => {
      if (message.includes('roll-up period done')) periods.push(`${fields.rollup}@${fields.start}`);
      if (message.includes('roll-up behind')) behind.push(fields);
    },
    warn() {},
    error: (fields: unknown) => void errors.push(fields),
    debug() {},
  };
  return { periods, errors, behind, logger };
}

const until = async (what: string, done: () => Promise<boolean> | boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

export function rollupsSuite(label: string, create: () => Promise<Store> | Store): void {
  describe(`roll-ups (${label})`, () => {
    /** A mount on a store of the suite; the test's end closes it and removes every task (stores may be shared by tests). */
    const serve = async (t: TestContext, options: Partial<KairosdbOptions> = {}, clock = { now: T + 10 * MIN + 5000 }) => {
      const own = options.store ? undefined : await create();
      // The mount's close() leaves the store open until the test's end has removed its tasks.
      const store = options.store ?? wrapStore(own as Store, { close: async () => {} });
      const { periods, errors, behind, logger } = periodLogger();
      const app = new Koa();
      const middleware = kairosdb({ store, clock: () => clock.now, logger, rollups: { pollMs: 20, leaseMs: 2000 }, ...options });
      app.use(middleware);
      let closed: Promise<void> | undefined;
      const close = () => (closed ??= middleware.close());
      t.after(async () => {
        await close();
        const tasks = new RollupTasks(store.metadata as MetadataStore);
        for (const task of await tasks.all()) await tasks.remove(task.id);
        await own?.close();
      });
      const agent = request(app.callback());
      /** Two series (host a, b), a point of value 1 every second for `minutes` from T. */
      const seed = async (metric: string, minutes = 12) => {
        const points: [number, number][] = [];
        for (let i = 0; i < minutes * 60; i++) points.push([T + i * 1000, 1]);
        const res = await agent.post('/api/v1/datapoints').send(['a', 'b'].map((host) => ({ name: metric, tags: { host }, datapoints: points })));
        assert.equal(res.status, 204, res.text);
      };
      const statusOf = (id: string) => agent.get(`/api/v1/rollups/status/${id}`);
      return { store, agent, seed, clock, periods, errors, behind, close, statusOf };
    };

    it('creates, lists, reads, updates (keeping the id) and deletes tasks with KairosDB\'s shapes', async (t) => {
      const { agent, close } = await serve(t, { rollups: { run: false } });
      const created = await agent.post('/api/v1/rollups').send(taskBody('ru.api', 'ru.api.out'));
      assert.equal(created.status, 200, created.text);
      const { id } = created.body as { id: string };
      assert.match(id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(created.body, { id, name: 'sums of ru.api', attributes: { url: `/api/v1/rollups/${id}` } });
      const listed = await agent.get('/api/v1/rollups');
      assert.deepEqual([listed.status, listed.body], [200, [{ id, ...taskBody('ru.api', 'ru.api.out') }]]);
      assert.deepEqual(Object.keys(listed.body[0])[0], 'id', 'the id comes first, as KairosDB inserts it');
      assert.deepEqual((await agent.get(`/api/v1/rollups/${id}`)).body, { id, ...taskBody('ru.api', 'ru.api.out') });

      const updated = await agent.put(`/api/v1/rollups/${id}`).send({ ...taskBody('ru.api', 'ru.api.out2'), id: 'another-id', name: 'renamed' });
      assert.deepEqual([updated.status, updated.body], [200, { id, name: 'renamed', attributes: { url: `/api/v1/rollups/${id}` } }]);
      const read = (await agent.get(`/api/v1/rollups/${id}`)).body as { id: string; name: string; rollups: { save_as: string }[] };
      assert.deepEqual([read.id, read.name, read.rollups[0]?.save_as], [id, 'renamed', 'ru.api.out2']);
      assert.deepEqual((await agent.get('/api/v1/admin/scheduledjobs')).status, 404, 'the admin API stays off unless asked for');

      assert.equal((await agent.delete(`/api/v1/rollups/${id}`)).status, 204);
      for (const res of [await agent.get(`/api/v1/rollups/${id}`), await agent.delete(`/api/v1/rollups/${id}`), await agent.put(`/api/v1/rollups/${id}`).send(taskBody('a', 'b'))]) {
        assert.deepEqual([res.status, res.body], [404, { errors: [`Resource not found for id ${id}`] }]);
      }
      assert.deepEqual((await agent.get('/api/v1/rollups')).body, []);
      await close();
    });

    it('answers 400 with every reason for a task KairosDB would accept and then break on, and stores nothing', async (t) => {
      const { agent, close } = await serve(t, { rollups: { run: false } });
      const valid = taskBody('ru.bad', 'ru.bad.out');
      const cases: [unknown, string[]][] = [
        [[valid], ['Invalid json. A roll-up task must be a JSON object.']],
        [{ ...valid, execution_interval: { value: 0, unit: 'minutes' } }, ['execution_interval.value must be an integer greater than or equal to 1']],
        [{ ...valid, execution_interval: { value: -5, unit: 'hours' } }, ['execution_interval.value must be an integer greater than or equal to 1']],
        [{ ...valid, execution_interval: { value: 1, unit: 'fortnights' } }, ['execution_interval.unit is not a valid time unit, must be one of MILLISECONDS,SECONDS,MINUTES,HOURS,DAYS,WEEKS,MONTHS,YEARS']],
        [{ ...valid, execution_interval: undefined }, ['execution_interval may not be null']],
        [{ ...valid, name: '' }, ['name must be a non-empty string']],
        [{ ...valid, rollups: [] }, ['rollups must be an array with at least 1 roll-up']],
        [{ ...valid, rollups: [{ save_as: 'x' }] }, ['rollups[0].query may not be null']],
        [{ ...valid, rollups: [{ query: valid.rollups[0]?.query }] }, ['rollups[0].save_as may not be null']],
        [{ ...valid, rollups: [{ save_as: 'x', query: { start_relative: { value: 1, unit: 'hours' }, metrics: [{ name: 'm', aggregators: [{ name: 'scale', factor: 2 }] }] } }] },
          ["rollups[0].query.metric[0].aggregators must include a range aggregator (one with a sampling, e.g. sum): its sampling is the roll-up's period"]],
        [{ ...valid, rollups: [{ save_as: 'x', query: { metrics: [{ name: 'm', aggregators: [{ name: 'sum' }] }] } }] }, ['rollups[0].query.metric[0].start_time relative or absolute time must be set']],
        [{ ...valid, execution_interval: { value: 1, unit: 'days' }, rollups: [{ save_as: 'x', query: { start_relative: { value: 1, unit: 'hours' }, metrics: [{ name: 'm', aggregators: [{ name: 'sum', sampling: { value: 100, unit: 'milliseconds' } }] }] } }] },
          ['rollups[0].query.metric[0]: a sampling of 100 MILLISECONDS makes more than 100000 periods per execution_interval; use a larger sampling or a shorter interval']],
      ];
      for (const [body, errors] of cases) {
        const res = await agent.post('/api/v1/rollups').send(body as object);
        assert.deepEqual([res.status, res.body], [400, { errors }], JSON.stringify(body));
      }
      assert.deepEqual((await agent.get('/api/v1/rollups')).body, []);
      await close();
    });

    it('runs a task on its interval: each ended period once, from now − interval − sampling, grouped tags kept; status as KairosDB answers it', async (t) => {
      const { store, agent, seed, clock, periods, errors, close, statusOf } = await serve(t);
      await seed('ru.run');
      const { id } = (await agent.post('/api/v1/rollups').send(taskBody('ru.run', 'ru.run.out'))).body as { id: string };
      await until('the first execution', async () => (await statusOf(id)).status === 200);
      // At 10:05 the first execution starts at 10:05 − 1 min − 1 min, aligned: 08:00 and 09:00 have ended.
      assert.deepEqual(periods, [`ru.run.out@${T + 8 * MIN}`, `ru.run.out@${T + 9 * MIN}`]);
      const status = (await statusOf(id)).body;
      assert.deepEqual(status, {
        statuses: [{ metric_name: 'ru.run', last_executed: '01 Jan 2024 00:10:05 AM', data_point_count: 4, execution_length: 0, last_execution_time: clock.now }],
        executing_host: status.executing_host,
        next_scheduled: '01 Jan 2024 00:11:05 AM',
      });
      clock.now += 30_000; // not due yet
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(periods.length, 2);
      clock.now += 3 * MIN; // 13:35: 10, 11 and 12 have ended
      await until('the second execution', () => periods.length === 5);
      assert.deepEqual(periods.slice(2), [10, 11, 12].map((m) => `ru.run.out@${T + m * MIN}`));
      const saved = await readAll(store, { metric: 'ru.run.out' });
      assert.deepEqual(saved.map((s) => [s.tags, s.points]), ['a', 'b'].map((host) => [{ host, saved_from: 'ru.run' }, [8, 9, 10, 11].map((m) => [T + m * MIN, 60])]));
      assert.deepEqual(errors, []);
      await close();
    });

    it('two mounts sharing the store: one holds the lease and runs; the other takes over when it stops, and goes on where it got', async (t) => {
      // Each mount closes its store on close(): they share one that only the test closes.
      const shared = await create();
      const store = wrapStore(shared, { close: async () => {} });
      const clock = { now: T + 10 * MIN + 5000 };
      const first = await serve(t, { store }, clock);
      const second = await serve(t, { store }, clock);
      await first.seed('ru.two');
      const { id } = (await first.agent.post('/api/v1/rollups').send(taskBody('ru.two', 'ru.two.out'))).body as { id: string };
      await until('the first execution', async () => (await first.statusOf(id)).status === 200);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const holder = first.periods.length > 0 ? first : second;
      const other = holder === first ? second : first;
      assert.deepEqual([holder.periods.length, other.periods.length], [2, 0], 'one runs, the other waits');
      await holder.close(); // gives the lease up
      clock.now += 2 * MIN;
      await until('the other mount to take over', () => other.periods.length === 2);
      assert.deepEqual([...holder.periods, ...other.periods], [8, 9, 10, 11].map((m) => `ru.two.out@${T + m * MIN}`));
      await other.close();
      t.after(() => shared.close());
    });

    it('catches up at most 1,000 periods an execution, the task staying due until it has: each period once, in order', async (t) => {
      const { agent, periods, behind, close } = await serve(t);
      const body = taskBody('ru.behind', 'ru.behind.out', { execution_interval: { value: 20, unit: 'minutes' } });
      (body.rollups[0]?.query.metrics[0] as { aggregators: unknown[] }).aggregators = [{ name: 'sum', sampling: { value: 1, unit: 'seconds' } }];
      const { id } = (await agent.post('/api/v1/rollups').send(body)).body as { id: string };
      // From 10:05 − 20 min − 1 s: 1,201 periods of a second, in two executions' worth of rounds.
      await until('the catch-up', () => periods.length >= 1201, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const first = T + 10 * MIN + 5000 - 20 * MIN - 1000;
      assert.deepEqual(behind, [{ id, rollup: 'ru.behind.out', periods: 1000, through: first + 1000 * 1000 }], 'the first execution stopped after 1,000 periods');
      assert.deepEqual(periods, Array.from({ length: 1201 }, (_, i) => `ru.behind.out@${first + i * 1000}`));
      await close();
    });

    it('a deleted task is not run again and its status is 404; the admin API lists the scheduled tasks', async (t) => {
      const { agent, seed, clock, periods, close, statusOf } = await serve(t, { routes: { admin: true } });
      await seed('ru.del');
      const { id } = (await agent.post('/api/v1/rollups').send(taskBody('ru.del', 'ru.del.out'))).body as { id: string };
      assert.deepEqual((await agent.get('/api/v1/admin/scheduledjobs')).body, [id]);
      await until('the first execution', async () => (await statusOf(id)).status === 200);
      assert.equal((await agent.delete(`/api/v1/rollups/${id}`)).status, 204);
      const gone = await statusOf(id);
      assert.deepEqual([gone.status, gone.body], [404, { errors: [`Resource not found for id ${id}`] }]);
      const ran = periods.length;
      clock.now += 5 * MIN;
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.equal(periods.length, ran);
      assert.deepEqual((await agent.get('/api/v1/admin/scheduledjobs')).body, []);
      await close();
    });

    it('a tenant sees only its tasks, and its roll-ups read and save only its series', async (t) => {
      const { store, agent, periods, close } = await serve(t, { tenant: (ctx) => ctx.get('x-tenant') || undefined });
      const points = Array.from({ length: 12 * 60 }, (_, i) => [T + i * 1000, 1]);
      for (const tenant of ['a', 'b']) {
        const res = await agent.post('/api/v1/datapoints').set('x-tenant', tenant).send([{ name: 'ru.ten', tags: { host: 'h' }, datapoints: points }]);
        assert.equal(res.status, 204);
      }
      const { id } = (await agent.post('/api/v1/rollups').set('x-tenant', 'a').send(taskBody('ru.ten', 'ru.ten.out'))).body as { id: string };
      assert.deepEqual((await agent.get('/api/v1/rollups').set('x-tenant', 'b')).body, []);
      assert.equal((await agent.get(`/api/v1/rollups/${id}`).set('x-tenant', 'b')).status, 404);
      await until('the first execution', () => periods.length === 2);
      const saved = await readAll(store, { metric: 'ru.ten.out' });
      assert.deepEqual(saved.map((s) => [s.tags, s.points.map((p) => p[1])]), [[{ host: 'h', saved_from: 'ru.ten', tenant: 'a' }, [60, 60]]]);
      await close();
    });

    it('asks authorize with the metrics a task reads and saves to; refuses more than maxTasks', async (t) => {
      const asked: unknown[] = [];
      const { agent, close } = await serve(t, {
        rollups: { run: false, maxTasks: 1 },
        authorize: (_ctx, access) => void (access.action === 'rollups' && asked.push(access)),
      });
      const created = await agent.post('/api/v1/rollups').send(taskBody('ru.auth', 'ru.auth.out'));
      assert.equal(created.status, 200);
      assert.deepEqual(asked, [{ action: 'rollups', operation: 'create', id: created.body.id, metrics: ['ru.auth'], saveAs: ['ru.auth.out'] }]);
      const more = await agent.post('/api/v1/rollups').send(taskBody('ru.auth', 'ru.auth.out'));
      assert.deepEqual([more.status, more.body], [400, { errors: ['There are 1 roll-up tasks already, the most allowed (rollups.maxTasks); delete one first'] }]);
      await close();
    });
  });
}
