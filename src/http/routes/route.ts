import type { Context } from 'koa';
import type { WorkKind } from '../admission.js';
import type { BodyReading } from '../read-body.js';

/** What the middleware knows of one request, and what handlers report back for `onRequest`. */
export interface RequestState {
  /** The path parameter of DELETE /metric/{name}, decoded. */
  readonly param: string;
  /** The path parameter split at `/`, each part decoded (a `%2F` stays inside its part). */
  readonly params: readonly string[];
  /** The caller's tenant, when the mount is tenant-bound. */
  readonly tenant: string | undefined;
  readonly reading: BodyReading;
  /** Data points written (ingest) or read (queries). */
  datapoints: number;
  /** Time spent waiting for the store, ms. */
  storeMs: number;
  /** Takes a slot for work of a kind once the body has arrived (503 when none is free); a second call does nothing. */
  admit(kind: WorkKind): void;
  /** The mount's streamed answers still being sent, each with the function that cuts it (for `close()`). */
  readonly openAnswers: Set<() => void>;
  /** Counts a streamed answer cut off after it started, by reason (the mount's metrics). */
  readonly cutOff: (reason: string) => void;
  /** Store calls of this request; its in-flight slot is held until they settle, even after a timeout answered. */
  readonly storeCalls: Promise<unknown>[];
}

/** Handles one method of one route. */
export type Handler = (ctx: Context, request: RequestState) => Promise<void>;

/** Routes by path (below the prefix), then by method. */
export type Routes = Record<string, Partial<Record<string, Handler>>>;
