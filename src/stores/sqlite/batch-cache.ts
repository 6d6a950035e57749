/**
 * The oldest batches as compaction works through them, kept from step to step: a step moves some series of up to
 * 64 batches, and with many series in each the next step needs the same directories and data again. A batch is kept
 * while its row in the file is as it was: the same sizes of directory and data, the same parts moved (writes only
 * add batches; a delete rewrites a batch shorter or longer, another compaction marks parts moved). Dropped whole when
 * a step fails (its transaction rolled back what the cache holds).
 */
import { DIRECTORY_FIELDS as F, directoryFields, LITTLE, takenOf } from './batch.js';
import type { Statements } from './statements.js';

/** A batch's directory, which entries have moved, and its data once a step needed it. */
export interface CachedBatch {
  readonly seq: number;
  readonly fields: Float64Array;
  /** 1 per moved entry; the step marks what it moves here and writes it back. */
  readonly taken: Uint8Array;
  /**
   * Points already moved of entries larger than a step, moved in pieces (kept here, not in the file: a piece moved
   * again after a restart is a duplicate with the same seq and value, which reads and merges drop).
   */
  readonly pieces: Map<number, number>;
  /** The sizes of its directory and data in the file when it was read. */
  readonly dirBytes: number;
  readonly dataBytes: number;
  data?: Uint8Array;
  /** Its data as float64s, while the data is kept. */
  numbers?: Float64Array;
}

/** Bytes of batch data kept between steps; past it data is read again when needed. */
const MAX_BYTES = 64 * 2 ** 20;

export class BatchCache {
  readonly #batches = new Map<number, CachedBatch>();
  #bytes = 0;

  constructor(private readonly sql: Statements) {}

  /** Bytes of batch data kept. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The `limit` oldest batches, in order; call inside the step's transaction. */
  oldest(limit: number): CachedBatch[] {
    const rows = this.sql.oldestBatches.all(limit);
    // Batches gone (every part moved, or deleted) leave the cache.
    const current = new Set(rows.map((r) => r.seq));
    for (const seq of this.#batches.keys()) if (!current.has(seq)) this.#forget(seq);
    return rows.map((row) => {
      const kept = this.#batches.get(row.seq);
      if (kept && asRead(kept, kept.taken, row)) return kept;
      if (kept) this.#forget(row.seq);
      return this.#load(row.seq);
    });
  }

  /** A batch's data, read once while it fits the cache. */
  data(batch: CachedBatch): Uint8Array {
    if (batch.data) return batch.data;
    const { data } = this.sql.batchData.get(batch.seq) as { data: Uint8Array };
    if (this.#bytes + data.length <= MAX_BYTES) {
      batch.data = data;
      this.#bytes += data.length;
    }
    return data;
  }

  /**
   * A batch's data as float64s in place (numeric parts are raw little-endian float64s at multiples of 8 bytes), kept
   * with its data; undefined on a big-endian host or for data not aligned in memory (the caller reads it otherwise).
   */
  numbers(batch: CachedBatch): Float64Array | undefined {
    if (batch.numbers) return batch.numbers;
    const data = this.data(batch);
    if (!LITTLE || data.byteOffset % 8 !== 0 || data.length % 8 !== 0) return undefined;
    const numbers = new Float64Array(data.buffer, data.byteOffset, data.length / 8);
    if (batch.data === data) batch.numbers = numbers;
    return numbers;
  }

  /** Whether a batch's row in the file is as it was read, with the moved marks `taken` (asked in a transaction). */
  unchanged(batch: CachedBatch, taken: Uint8Array): boolean {
    const row = this.sql.batchState.get(batch.seq);
    return row !== undefined && asRead(batch, taken, row);
  }

  /** Forgets everything: the store changed batches, or a step failed. */
  clear(): void {
    this.#batches.clear();
    this.#bytes = 0;
  }

  #load(seq: number): CachedBatch {
    const { dir, taken, dataBytes } = this.sql.directoryOf.get(seq) as { dir: Uint8Array; taken: Uint8Array | null; dataBytes: number };
    const fields = directoryFields(dir);
    const batch: CachedBatch = { seq, fields, taken: takenOf(taken, fields.length / F), pieces: new Map(), dirBytes: dir.length, dataBytes };
    this.#batches.set(seq, batch);
    return batch;
  }

  #forget(seq: number): void {
    this.#bytes -= this.#batches.get(seq)?.data?.length ?? 0;
    this.#batches.delete(seq);
  }
}

/** Whether a batch's row in the file has the sizes it was read with and the moved marks `taken`. */
function asRead(batch: CachedBatch, taken: Uint8Array, row: { dirBytes: number; dataBytes: number; taken: Uint8Array | null }): boolean {
  return row.dirBytes === batch.dirBytes && row.dataBytes === batch.dataBytes && sameTaken(taken, row.taken);
}

/** Whether the moved marks in the file (null: none) are the ones kept. */
function sameTaken(kept: Uint8Array, inFile: Uint8Array | null): boolean {
  if (!inFile) return !kept.includes(1);
  if (inFile.length === kept.length) return Buffer.compare(kept, inFile) === 0;
  if (inFile.length < kept.length) return false;
  for (let i = 0; i < kept.length; i++) if (kept[i] !== inFile[i]) return false;
  return true;
}
