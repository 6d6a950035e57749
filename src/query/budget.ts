import { httpError } from '../errors.js';

/** The caps of one query while it runs, as {@link QueryBudget} enforces them. */
export interface QueryCaps {
  /** Raw points read. */
  readonly maxPoints: number;
  /** Values answered. */
  readonly maxOutputPoints: number;
  /** Results answered. */
  readonly maxGroups: number;
  /** Bytes of the answer. */
  readonly maxResponseBytes: number;
  /** ms the query may run. */
  readonly timeoutMs: number;
  /** Series one query metric may select. @default Infinity */
  readonly maxSeries?: number;
}

/** How long the query's code runs before it gives the event loop a turn, ms. */
const SLICE_MS = 10;

/** Running counts of one query against its caps, its deadline, and the turns it gives the event loop. */
export class QueryBudget {
  points = 0;
  outputPoints = 0;
  groups = 0;
  /** About how many bytes the text values answered so far will take (while running). */
  estimatedBytes = 0;
  /** Bytes of the answer written so far. */
  writtenBytes = 0;
  readonly #deadline: number;
  #sliceEnd: number;
  /** Set by `kill`: the hash it was killed by; the query stops at its next `pace`. */
  #killedBy: string | undefined;
  readonly #onKill = new Set<() => void>();

  constructor(readonly caps: QueryCaps) {
    const now = performance.now();
    this.#deadline = now + caps.timeoutMs;
    this.#sliceEnd = now + SLICE_MS;
  }

  /** `performance.now()` past which the query stops, its answer's sending included. */
  get deadline(): number {
    return this.#deadline;
  }

  /** Counts `n` raw points read. */
  read(n: number): void {
    this.points += n;
    if (this.points > this.caps.maxPoints) throw httpError('QUERY_TOO_LARGE', this.caps.maxPoints);
  }

  /** Counts one value answered. */
  output(): void {
    if (++this.outputPoints > this.caps.maxOutputPoints) throw httpError('QUERY_OUTPUT_TOO_LARGE', this.caps.maxOutputPoints);
  }

  /** Counts one result answered. */
  group(): void {
    if (++this.groups > this.caps.maxGroups) throw httpError('QUERY_TOO_MANY_GROUPS', this.caps.maxGroups);
  }

  /** Counts about `n` bytes a value will take in the answer, so large text values stop the query before it is written. */
  estimate(n: number): void {
    this.estimatedBytes += n;
    if (this.estimatedBytes > this.caps.maxResponseBytes) throw httpError('QUERY_RESPONSE_TOO_LARGE', this.caps.maxResponseBytes);
  }

  /** Counts `n` bytes of the answer as it is written. */
  written(n: number): void {
    this.writtenBytes += n;
    if (this.writtenBytes > this.caps.maxResponseBytes) throw httpError('QUERY_RESPONSE_TOO_LARGE', this.caps.maxResponseBytes);
  }

  /** Whether the current slice of work is used up, or the query was killed (cheap enough to call every few hundred points). */
  get due(): boolean {
    return this.#killedBy !== undefined || performance.now() >= this.#sliceEnd;
  }

  /** Stops the query at its next `pace` (it answers 503), and cuts its streamed answer at once (see `onKill`). */
  kill(hash: string): void {
    this.#killedBy = hash;
    for (const listener of this.#onKill) listener();
  }

  /** Calls `listener` when the query is killed (a streamed answer waiting for a slow client is cut); returns the unsubscribe. */
  onKill(listener: () => void): () => void {
    this.#onKill.add(listener);
    return () => this.#onKill.delete(listener);
  }

  /** Gives the event loop a turn when the slice is used up, and stops the query (503) past its deadline. */
  async pace(): Promise<void> {
    if (this.#killedBy !== undefined) throw httpError('QUERY_KILLED', this.#killedBy);
    const now = performance.now();
    if (now < this.#sliceEnd) return;
    if (now > this.#deadline) throw httpError('QUERY_TIMEOUT', this.caps.timeoutMs);
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.#killedBy !== undefined) throw httpError('QUERY_KILLED', this.#killedBy);
    const after = performance.now();
    if (after > this.#deadline) throw httpError('QUERY_TIMEOUT', this.caps.timeoutMs);
    this.#sliceEnd = after + SLICE_MS;
  }
}

/** The mount's query limits, as its options name them. */
export interface QueryLimitOptions {
  readonly maxQueryPoints: number;
  readonly maxQueryOutputPoints: number;
  readonly maxQueryGroups: number;
  readonly maxQuerySeries: number;
  readonly maxQueryResponseBytes: number;
  readonly queryTimeoutMs: number;
}

/** A fresh budget under the mount's query limits. */
export function budgetOf(options: QueryLimitOptions): QueryBudget {
  return new QueryBudget({
    maxPoints: options.maxQueryPoints,
    maxOutputPoints: options.maxQueryOutputPoints,
    maxGroups: options.maxQueryGroups,
    maxSeries: options.maxQuerySeries,
    maxResponseBytes: options.maxQueryResponseBytes,
    timeoutMs: options.queryTimeoutMs,
  });
}
