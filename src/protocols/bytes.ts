/** Reading protocol bodies from their bytes. */

/** Longest stretch of reading a body before the event loop gets a turn, ms. */
const TURN_MS = 10;

/** The turns a body's reader gives the event loop: `due` is cheap (ask it every few hundred items), `take` gives one. */
export class ReadTurns {
  #at = performance.now() + TURN_MS;

  get due(): boolean {
    return performance.now() >= this.#at;
  }

  async take(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.#at = performance.now() + TURN_MS;
  }
}

/** Whether the `count` bytes at `a` and at `b` are the same (four at a time: half the time of one by one). */
export function sameBytes(view: DataView, a: number, b: number, count: number): boolean {
  let i = 0;
  for (; i + 4 <= count; i += 4) if (view.getUint32(a + i) !== view.getUint32(b + i)) return false;
  for (; i < count; i++) if (view.getUint8(a + i) !== view.getUint8(b + i)) return false;
  return true;
}

/** ASCII bytes as text (Buffer's own latin1Slice, without toString's checks). */
export function latin1(bytes: Buffer, from: number, to: number): string {
  return (bytes as unknown as { latin1Slice(start: number, end: number): string }).latin1Slice(from, to);
}

/**
 * What a route read from texts a collector sends again and again (a series' or a tag set's), kept across bodies: at
 * most 16,384 texts and 1 Mi characters, then it starts over. (Texts decoded from a body's bytes hold no part of it.)
 */
export class TextCache<T> {
  readonly #values = new Map<string, T>();
  #chars = 0;

  get(text: string): T | undefined {
    return this.#values.get(text);
  }

  set(text: string, value: T): void {
    if (this.#values.size >= 16_384 || this.#chars + text.length > 1 << 20) {
      this.#values.clear();
      this.#chars = 0;
    }
    if (text.length > 4096) return;
    this.#values.set(text, value);
    this.#chars += text.length;
  }
}
