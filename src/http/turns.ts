/** Body bytes past which ingest gives the event loop a turn between parsing and normalising (parsing: ~9 ms per MiB). */
export const LARGE_BODY = 1024 * 1024;

/**
 * Normalising time past which ingest gives the event loop a turn before writing, ms: a body of new series costs up to
 * ~30 ms per MiB there (tag sets built), which ran on with the parse and the store's first slice as one stretch. Known
 * series rarely take the turn (one for every body over 256 KiB cost 10–15 % of the rate at 8 connections).
 */
export const LONG_NORMALISE_MS = 8;

/** A turn of the event loop (timers and I/O run before the work goes on). */
export const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * How long a body's normalising runs before it gives the event loop a turn, ms: 10,000 new series take ~45 ms, which
 * ran on with the parse as one stretch; known series normalise within it and take no turn (a turn lets the other
 * connections' bodies in meanwhile, which costs the rate under load).
 */
export const STRETCH_MS = 10;

/** A request's work on the event loop since its last turn, and the turns it gives once that ran long. */
export class Stretch {
  /** @param since when the stretch began */
  constructor(private since = performance.now()) {}

  /** A turn (a new stretch after it) if this one has run {@link STRETCH_MS} or longer; else `undefined`. */
  readonly pause = (): Promise<void> | undefined => (performance.now() - this.since < STRETCH_MS ? undefined : this.turn());

  /** A turn now; a new stretch after it. */
  async turn(): Promise<void> {
    await turn();
    this.since = performance.now();
  }
}
