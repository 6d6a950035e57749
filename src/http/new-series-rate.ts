import { httpError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import type { SeriesWrite } from '../store-api/contract.js';
import { withTimeout } from './timeout.js';

/** Tenants (or mounts) whose budgets are kept; past it the fullest are forgotten (a full budget is the default). */
const KEPT = 10_000;

/**
 * The opt-in rate of new series per tenant (`maxNewSeriesPerMinute`): a token bucket per tenant holding a minute's
 * worth, refilled continuously. A write whose new series exceed what the bucket holds answers 429 with the seconds
 * until they would fit, and writes nothing.
 */
export class NewSeriesRate {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes `n` new series from a tenant's budget, or throws 429. */
  take(tenant: string, n: number): void {
    if (n === 0) return;
    const now = this.now();
    const perMs = this.perMinute / 60_000;
    const bucket = this.#buckets.get(tenant) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    if (n > bucket.tokens) {
      const seconds = n > this.perMinute ? 60 : Math.ceil((n - bucket.tokens) / perMs / 1000);
      throw Object.assign(httpError('NEW_SERIES_RATE', n, this.perMinute), { retryAfter: seconds });
    }
    bucket.tokens -= n;
    if (!this.#buckets.has(tenant) && this.#buckets.size >= KEPT) this.#forgetFullest();
    this.#buckets.set(tenant, bucket);
  }

  #forgetFullest(): void {
    for (const [tenant, bucket] of this.#buckets) if (bucket.tokens >= this.perMinute / 2) this.#buckets.delete(tenant);
    if (this.#buckets.size >= KEPT) this.#buckets.clear();
  }
}

const rates = new WeakMap<ResolvedOptions, NewSeriesRate>();

/**
 * Takes a write's new series from the mount's one budget (`maxNewSeriesPerMinute`, shared by KairosDB's JSON and
 * every other protocol), or throws 429; nothing without the option or a store that counts new series.
 */
export async function takeNewSeries(options: ResolvedOptions, tenant: string | undefined, series: readonly SeriesWrite[], storeCalls: Promise<unknown>[]): Promise<void> {
  if (options.maxNewSeriesPerMinute <= 0 || !options.store.countNewSeries || series.length === 0) return;
  let rate = rates.get(options);
  if (!rate) rates.set(options, (rate = new NewSeriesRate(options.maxNewSeriesPerMinute)));
  rate.take(tenant ?? '', await withTimeout(options.store.countNewSeries(series), options.storeTimeoutMs, storeCalls));
}
