/**
 * Runs at most `limit` tasks at once; the rest wait in order. The waiting queue is read from a moving head (an
 * Array `shift()` of a queue of 60,000 statements — one request of 10,000 new series — moved the whole array each
 * time: ~10 s of CPU a request).
 */
export class Limiter {
  #running = 0;
  #waiting: (() => void)[] = [];
  #head = 0;

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
    try {
      return await task();
    } finally {
      this.#running--;
      this.#next();
    }
  }

  #next(): void {
    if (this.#head === this.#waiting.length) return;
    const resolve = this.#waiting[this.#head++] as () => void;
    if (this.#head === this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    resolve();
  }
}
