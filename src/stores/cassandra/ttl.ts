import { MAX_TTL } from '../../store-api/contract.js';

/** 2038-01-19T03:14:07Z: the latest expiry Cassandra before 5.0 accepts. */
export const EXPIRY_LIMIT_2038 = 2_147_483_647_000;

/** How the store turns a request TTL into the TTL it binds. */
export interface TtlRules {
  forceTtl: number | undefined;
  alignTtlWithTimestamp: boolean;
  allowExpiryAfter2038: boolean;
}

/** The TTL to bind for one point; `undefined` when alignment says it has already expired. */
export function pointTtl(ttl: number, timestamp: number, now: number, rules: TtlRules): number | undefined {
  let seconds = rules.forceTtl ?? ttl;
  if (seconds > 0 && rules.alignTtlWithTimestamp) {
    seconds -= Math.floor((now - timestamp) / 1000);
    if (seconds <= 0) return undefined;
  }
  return limit(seconds, now, rules);
}

/** The TTL of index rows for points that live `ttl` seconds: one bucket longer; 0 stays 0. */
export function indexTtl(ttl: number, bucketWidthMs: number, now: number, rules: TtlRules): number {
  return ttl === 0 ? 0 : limit(ttl + Math.ceil(bucketWidthMs / 1000), now, rules);
}

/** What a chunk cell outlives its latest point by: an hour more than a bucket (see `chunkTtl`). */
export const CHUNK_GRACE_MS = 3_600_000;

/**
 * The TTL of a chunk cell whose latest point lives `ttl` seconds: a bucket and an hour longer (0 stays 0). A point
 * overwritten by a later one with a shorter TTL must not come back when the later cell goes: the cell stays while
 * the sweep of its closed bucket (which drops both) comes round; until then the expired point, filtered out of
 * reads by its own expiry, still hides the older one.
 */
export function chunkTtl(ttl: number, bucketWidthMs: number, now: number, rules: TtlRules): number {
  return ttl === 0 ? 0 : limit(ttl + Math.ceil((bucketWidthMs + CHUNK_GRACE_MS) / 1000), now, rules);
}

/** Whether a TTL lives longer than another (0 is forever). */
export function outlives(a: number, b: number): boolean {
  return b !== 0 && (a === 0 || a > b);
}

function limit(seconds: number, now: number, rules: TtlRules): number {
  let capped = Math.min(seconds, MAX_TTL);
  if (capped > 0 && !rules.allowExpiryAfter2038) capped = Math.min(capped, Math.floor((EXPIRY_LIMIT_2038 - now) / 1000));
  return capped;
}
