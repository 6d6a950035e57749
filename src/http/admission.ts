import { httpError } from '../errors.js';

/** The in-flight limits of one mount: requests being handled and body bytes held. */
export class Admission {
  #requests = 0;
  #bytes = 0;

  constructor(
    readonly maxRequests: number,
    readonly maxBytes: number,
  ) {}

  /** Admits a request, or throws 503 when as many are in flight as allowed. */
  enter(): void {
    if (this.#requests >= this.maxRequests) throw httpError('OVERLOADED');
    this.#requests++;
  }

  leave(): void {
    this.#requests--;
  }

  /** Body bytes that may still be held. */
  get available(): number {
    return this.maxBytes - this.#bytes;
  }

  /** Holds `n` more body bytes for a request, or throws 503 when the budget is spent. */
  reserve(n: number, ticket: { bytes: number }): void {
    if (this.#bytes + n > this.maxBytes) throw httpError('OVERLOADED');
    this.#bytes += n;
    ticket.bytes += n;
  }

  /** Gives back every byte a request held. */
  release(ticket: { bytes: number }): void {
    this.#bytes -= ticket.bytes;
    ticket.bytes = 0;
  }
}
