import { httpError } from '../errors.js';

/** The kinds of work a request is admitted for, each with slots of its own. */
export type WorkKind = 'write' | 'query';

/** Limits of one mount's admission. */
export interface AdmissionLimits {
  /** Writes and deletes handled at once. */
  readonly writes: number;
  /** Queries handled at once. */
  readonly queries: number;
  /** Body bytes held by requests in flight. */
  readonly bytes: number;
  /** Requests in flight per client address, body upload included; 0 is no limit. */
  readonly perClient: number;
}

/**
 * The in-flight limits of one mount. A request takes a slot of its kind only once its body has arrived, so slow
 * uploads hold bytes (bounded by the byte budget and the body rate) but never the slots fast clients need.
 */
export class Admission {
  readonly #inFlight: Record<WorkKind, number> = { write: 0, query: 0 };
  readonly #clients = new Map<string, number>();
  #bytes = 0;

  constructor(readonly limits: AdmissionLimits) {}

  /** Admits a request for work of a kind, or throws 503 when as many are in flight as allowed. */
  enter(kind: WorkKind): void {
    if (this.#inFlight[kind] >= (kind === 'write' ? this.limits.writes : this.limits.queries)) throw httpError('OVERLOADED');
    this.#inFlight[kind]++;
  }

  leave(kind: WorkKind): void {
    this.#inFlight[kind]--;
  }

  /** Counts a request of a client address, or throws 503 when it has as many in flight as allowed. */
  enterClient(address: string): void {
    const { perClient } = this.limits;
    if (perClient === 0) return;
    const n = this.#clients.get(address) ?? 0;
    if (n >= perClient) throw httpError('CLIENT_OVERLOADED', perClient);
    this.#clients.set(address, n + 1);
  }

  leaveClient(address: string): void {
    if (this.limits.perClient === 0) return;
    const n = (this.#clients.get(address) ?? 1) - 1;
    if (n <= 0) this.#clients.delete(address);
    else this.#clients.set(address, n);
  }

  /** Requests holding a slot now, by kind. */
  get inFlight(): Readonly<Record<WorkKind, number>> {
    return { ...this.#inFlight };
  }

  /** Body bytes that may still be held. */
  get available(): number {
    return this.limits.bytes - this.#bytes;
  }

  /** Holds `n` more body bytes for a request, or throws 503 when the budget is spent. */
  reserve(n: number, ticket: { bytes: number }): void {
    if (this.#bytes + n > this.limits.bytes) throw httpError('OVERLOADED');
    this.#bytes += n;
    ticket.bytes += n;
  }

  /** Gives back every byte a request held. */
  release(ticket: { bytes: number }): void {
    this.#bytes -= ticket.bytes;
    ticket.bytes = 0;
  }
}
