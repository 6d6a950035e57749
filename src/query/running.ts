/**
 * The queries a mount is running, for the admin API (KairosDB's `GET /admin/runningqueries` and `killquery`): one
 * entry per query metric, with a hash that stays the same for the same metric query and time range.
 */
import { createHash } from 'node:crypto';
import type { QueryBudget } from './budget.js';

/** A query metric being answered, as `GET /admin/runningqueries` lists it. */
export interface RunningQuery {
  readonly hash: string;
  readonly metric: string;
  /** The metric's query as the client sent it, with the request's time range. */
  readonly json: unknown;
}

interface Entry extends RunningQuery {
  readonly budget: QueryBudget;
}

export class RunningQueries {
  readonly #entries = new Set<Entry>();

  /**
   * Lists a request's query metrics while it runs; call the function it returns when the request ends. `body` is the
   * request as sent: its `metrics[i]` and its time range go into each entry's JSON and hash.
   */
  add(body: unknown, budget: QueryBudget): () => void {
    const { metrics = [], ...range } = (typeof body === 'object' && body !== null ? body : {}) as { metrics?: unknown[] };
    const time = Object.fromEntries(Object.entries(range).filter(([key]) => /^(start|end)_/.test(key)));
    const added: Entry[] = [];
    for (const metric of Array.isArray(metrics) ? metrics : []) {
      const json = { ...time, metric };
      const name = typeof (metric as { name?: unknown })?.name === 'string' ? ((metric as { name: string }).name) : '';
      const entry = { hash: hashOf(json), metric: name, json, budget };
      this.#entries.add(entry);
      added.push(entry);
    }
    return () => added.forEach((entry) => this.#entries.delete(entry));
  }

  list(): RunningQuery[] {
    return [...this.#entries].map(({ hash, metric, json }) => ({ hash, metric, json }));
  }

  /** Stops every running request that has a query metric of this hash; how many it stopped. */
  kill(hash: string): number {
    const budgets = new Set([...this.#entries].filter((entry) => entry.hash === hash).map((entry) => entry.budget));
    for (const budget of budgets) budget.kill(hash);
    return budgets.size;
  }
}

/** 32 hex digits of SHA-256 over the JSON text (KairosDB's hash is an MD5 of its own query text: both only name a query). */
function hashOf(json: unknown): string {
  return createHash('sha256').update(JSON.stringify(json)).digest('hex').slice(0, 32);
}
