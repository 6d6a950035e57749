/**
 * The roll-up runner (`rollups: true`): every instance sharing a store runs one, and one of them at a time executes
 * the tasks. Its stages:
 *  1. lease — the instance holding `rollups/lease` (a compare-and-set value: holder and expiry) executes; it renews
 *     the lease every poll and before each period, and another instance takes it over once it has not been renewed for
 *     `leaseMs` (its holder died), or at once when the holder stops.
 *  2. schedule — a task is due once its `execution_interval` has passed since its last execution ended
 *     (`rollups/<id>/ran`); a new task at the next poll.
 *  3. periods — each query metric of each roll-up goes on from where it got (`rollups/<id>/<r>/<m>`: where its last
 *     rolled-up period ended; the first time from KairosDB's start, now − interval − sampling), period by period,
 *     through the last period that has ended (roll-up.ts).
 *  4. commit — a period counts once its progress moves on by compare-and-set: an instance that finds it moved stops
 *     (another one did the period; the points both wrote are the same), so no period is counted twice, and one
 *     interrupted (the process killed) is done again by the next holder.
 *  5. status — KairosDB's status of the execution (per query metric: points, time taken, error), when it ends.
 */
import { randomUUID } from 'node:crypto';
import { createIngest, type IngestResult } from '../ingest/ingest.js';
import type { ResolvedOptions } from '../options.js';
import { addUnits } from '../query/time.js';
import type { Coordination } from '../store-api/contract.js';
import { endedPeriods, periodStart } from './periods.js';
import { rollUpPeriod } from './roll-up.js';
import { parseTask, type RollupTask } from './task.js';
import type { RollupSettings } from './settings.js';
import type { RollupTasks } from './tasks.js';

const LEASE = 'rollups/lease';

/** Most periods of one query metric an execution rolls up; a task left behind (an outage) goes on at the next poll. */
const MAX_PERIODS_PER_RUN = 1000;

/** Where a task's progress is kept: its last execution's end, and each query metric's rolled-up time. */
const progressName = (id: string, ...at: number[]) => (at.length === 0 ? `rollups/${id}/ran` : `rollups/${id}/${at.join('/')}`);

export class RollupRunner {
  readonly #me = randomUUID();
  readonly #ingest: (body: unknown) => IngestResult;
  readonly #invalid = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;
  /** Until when this instance holds the lease as it last wrote it (0: not held). */
  #heldUntil = 0;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly settings: RollupSettings,
    private readonly tasks: RollupTasks,
    private readonly shared: Coordination,
  ) {
    this.#ingest = createIngest(options);
  }

  /** Starts polling (the first round at once). */
  start(): void {
    this.#next(0);
  }

  /** Stops after the period in progress and gives the lease up, so another instance takes it at its next poll. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
    if (this.#heldUntil === 0) return;
    const current = await this.shared.get(LEASE).catch(() => undefined);
    if (current !== undefined && leaseOf(current).holder === this.#me) await this.shared.compareAndSet(LEASE, current, undefined).catch(() => false);
  }

  /** One round: takes or renews the lease, then executes each task that is due. */
  async round(): Promise<void> {
    if (!(await this.#lease())) return;
    for (const stored of await this.tasks.all()) {
      if (this.#stopped) return;
      const parsed = parseTask(stored.json, stored.id, this.options, this.options.clock());
      if (!parsed.ok) {
        if (!this.#invalid.has(stored.id)) this.options.logger.error({ id: stored.id, errors: parsed.errors }, 'koa-kairosdb: a stored roll-up task is not valid; it is not run');
        this.#invalid.add(stored.id);
        continue;
      }
      this.#invalid.delete(stored.id);
      await this.#runIfDue(parsed.task, stored.tenant);
    }
  }

  #next(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#round = this.round()
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'koa-kairosdb: a roll-up round failed; tried again at the next poll'))
        .finally(() => {
          this.#round = undefined;
          this.#next(this.settings.pollMs);
        });
    }, ms);
    this.#timer.unref();
  }

  /** Whether this instance holds the lease (taken or renewed now, or renewed less than a third of it ago). */
  async #lease(): Promise<boolean> {
    const now = this.options.clock();
    if (this.#heldUntil - now > (this.settings.leaseMs * 2) / 3) return true;
    this.#heldUntil = 0;
    const current = await this.shared.get(LEASE);
    const held = current === undefined ? undefined : leaseOf(current);
    if (held && held.holder !== this.#me && held.until > now) return false;
    const until = now + this.settings.leaseMs;
    if (!(await this.shared.compareAndSet(LEASE, current, JSON.stringify({ holder: this.#me, host: this.settings.host, until })))) return false;
    this.#heldUntil = until;
    return true;
  }

  async #runIfDue(task: RollupTask, tenant: string | undefined): Promise<void> {
    const ranName = progressName(task.id);
    const ran = await this.shared.get(ranName);
    const { value, unit } = task.interval;
    if (ran !== undefined && this.options.clock() < addUnits(Number(ran), value, unit, 'UTC')) return;
    const statuses: Record<string, unknown>[] = [];
    let behind = false;
    for (const [r, rollup] of task.rollups.entries()) {
      for (let m = 0; m < rollup.samplings.length; m++) {
        const status = await this.#rollUp(task, r, m, tenant);
        if (status === undefined) return;
        behind ||= status.behind;
        statuses.push(status.status);
      }
    }
    const ended = this.options.clock();
    // Still behind (a long outage): the task stays due, and goes on at the next poll.
    if (!behind && !(await this.shared.compareAndSet(ranName, ran, String(ended)))) return;
    // Deleted meanwhile: no status is left behind for it.
    if (!(await this.tasks.get(task.id, tenant))) return;
    await this.tasks.setStatus(task.id, { statuses, executing_host: this.settings.host, next_scheduled: kairosDate(addUnits(ended, value, unit, 'UTC')) });
  }

  /**
   * Rolls up the periods of one query metric that have ended, at most MAX_PERIODS_PER_RUN of them; its status and
   * whether periods were left, or undefined when the lease was lost.
   */
  async #rollUp(task: RollupTask, r: number, m: number, tenant: string | undefined): Promise<{ status: Record<string, unknown>; behind: boolean } | undefined> {
    const rollup = task.rollups[r] as (typeof task.rollups)[number];
    const sampling = rollup.samplings[m] as (typeof rollup.samplings)[number];
    const metricName = String(((rollup.query.metrics as Record<string, unknown>[])[m] as Record<string, unknown>).name);
    const name = progressName(task.id, r, m);
    const started = this.options.clock();
    let count = 0;
    try {
      let through = await this.shared.get(name);
      const { value, unit } = task.interval;
      const first = () => periodStart(addUnits(addUnits(started, -value, unit, 'UTC'), -sampling.value, sampling.unit, rollup.timeZone), sampling, rollup.timeZone);
      let done = 0;
      for (const period of endedPeriods(through === undefined ? first() : Number(through), started, sampling, rollup.timeZone)) {
        if (done++ === MAX_PERIODS_PER_RUN) {
          this.options.logger.info({ id: task.id, rollup: rollup.saveAs, periods: MAX_PERIODS_PER_RUN, through: Number(through) }, 'koa-kairosdb: roll-up behind; it goes on at the next poll');
          return { status: metricStatus(metricName, this.options.clock(), count, this.options.clock() - started), behind: true };
        }
        if (this.#stopped || !(await this.#lease())) return undefined;
        const points = await rollUpPeriod(this.options, this.#ingest, rollup, m, period, tenant);
        const next = String(period[1]);
        if (!(await this.shared.compareAndSet(name, through, next))) {
          this.options.logger.warn({ id: task.id, rollup: rollup.saveAs, start: period[0] }, 'koa-kairosdb: another instance rolled this period up; this one stops');
          return undefined;
        }
        through = next;
        count += points;
        this.options.logger.info({ task: task.name, id: task.id, rollup: rollup.saveAs, metric: metricName, start: period[0], end: period[1], points }, 'koa-kairosdb: roll-up period done');
      }
      return { status: metricStatus(metricName, this.options.clock(), count, this.options.clock() - started), behind: false };
    } catch (error) {
      this.options.logger.error({ err: error, id: task.id, rollup: rollup.saveAs }, 'koa-kairosdb: roll-up failed; its periods are tried again at the next execution');
      const status = { ...metricStatus(metricName, this.options.clock(), count, this.options.clock() - started), error_message: error instanceof Error ? error.message : String(error) };
      return { status, behind: false };
    }
  }
}

function leaseOf(text: string): { holder: string; until: number } {
  try {
    const lease = JSON.parse(text) as { holder?: unknown; until?: unknown };
    return { holder: String(lease.holder), until: Number(lease.until) };
  } catch {
    return { holder: '', until: 0 };
  }
}

/** KairosDB's RollupQueryMetricStatus, as its REST API answers it. */
function metricStatus(metric: string, at: number, points: number, ms: number): Record<string, unknown> {
  return { metric_name: metric, last_executed: kairosDate(at), data_point_count: points, execution_length: ms, last_execution_time: at };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A time as KairosDB's statuses write it (`dd MMM yyyy KK:mm:ss a`), in UTC. */
function kairosDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  const hour = d.getUTCHours();
  return `${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(hour % 12)}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${hour < 12 ? 'AM' : 'PM'}`;
}
