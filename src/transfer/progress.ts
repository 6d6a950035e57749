/** How far an export or import has come. */
export interface TransferProgress {
  /** Points written out (export) or stored (import). */
  readonly points: number;
  /** Series exported; for an import, lines stored. */
  readonly series: number;
  /** Bytes written (export) or read (import, before decompression when the CLI gunzips). */
  readonly bytes: number;
  /** Export: metrics done and in all. Import: unused (0). */
  readonly metricsDone: number;
  readonly metricsTotal: number;
  readonly elapsedMs: number;
}

/** Counts a transfer and reports it about once a second. */
export class ProgressClock {
  points = 0;
  series = 0;
  bytes = 0;
  metricsDone = 0;
  readonly #started = performance.now();
  #reported = this.#started;

  constructor(
    readonly onProgress: ((progress: TransferProgress) => void) | undefined,
    readonly metricsTotal = 0,
  ) {}

  /** Reports when a second has passed since the last report. */
  tick(): void {
    if (!this.onProgress) return;
    const now = performance.now();
    if (now - this.#reported < 1000) return;
    this.#reported = now;
    this.onProgress(this.snapshot());
  }

  /** The totals, reported once more. */
  finish(): TransferProgress {
    const totals = this.snapshot();
    this.onProgress?.(totals);
    return totals;
  }

  snapshot(): TransferProgress {
    const { points, series, bytes, metricsDone, metricsTotal } = this;
    return { points, series, bytes, metricsDone, metricsTotal, elapsedMs: performance.now() - this.#started };
  }
}
