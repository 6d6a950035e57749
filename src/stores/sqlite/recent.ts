/**
 * The `recent` table: one row (a batch) per write, holding every series of the request, until compaction moves
 * them into chunks. Found by reading the batches' directories (the table holds only the compaction backlog).
 */
import type { StorageKind, StoredValue } from '../../types/value-type.js';
import { DIRECTORY_FIELDS, directoryFields, packBatch, readDirectory, writeDirectory, type BatchEntry, type PartPoints } from './batch.js';
import { encodeRecent, recentSource } from './chunk-rows.js';
import type { Statements } from './statements.js';
import type { Source } from '../chunk/merge.js';
import { lowerBound } from '../../store-api/lower-bound.js';

/** A series' part in a batch, with the batch's write order. */
export interface Located extends BatchEntry {
  readonly seq: number;
}

/** The series' parts of one write, ready to append. */
export type SeriesPart = PartPoints;

/** A batch's directory and data. */
export type PackedBatch = ReturnType<typeof packBatch>;

/** A batch's directory as read once, its fields in place (no object per entry). */
interface ReadBatch {
  /** The lengths the directory was read at: a range delete rewrites a batch (its data grows or its directory shrinks). */
  readonly dirBytes: number;
  readonly dataBytes: number;
  /**
   * Entry i's series id at [7i], then first, last, count, expires, offset, length. A batch written by this store is
   * known by its id range until a read needs its entries (64 batches of 10,000 entries held 36 MB).
   */
  fields?: Float64Array;
  /** The least and greatest series id of its entries: a batch of new series holds a run of ids, which most reads skip. */
  readonly minId: number;
  readonly maxId: number;
  /** The entries ordered by series id, then position (see `orderById`), made once reads asked for a few series of it often. */
  byId?: Float64Array;
  /** How often reads asked for a few of its series before `byId` was made. */
  lookups?: number;
}

/** The batches of the backlog and what compaction has taken of each, as of one version of the file. */
interface Backlog {
  readonly version: string;
  readonly batches: readonly { readonly seq: number; readonly read: ReadBatch; readonly taken: Uint8Array | null }[];
}

/**
 * Adds a batch's parts of the given series not yet taken by compaction to `out`: found by binary search when they are
 * few beside the batch's entries (a page of a query's series against a backlog of 100s of batches of 10,000 series
 * each), else by one pass over the directory.
 */
function collect(batch: Backlog['batches'][number], out: Map<number, Located[]>, only: Wanted, fieldsOf: (batch: Backlog['batches'][number]) => Float64Array): void {
  const { read, taken } = batch;
  if (read.maxId < only.min || read.minId > only.max) return;
  const f = fieldsOf(batch);
  const entries = f.length / DIRECTORY_FIELDS;
  // Sorting costs ~5 passes: made from the fourth lookup on (the first query after a burst of writes meets a backlog
  // of 100s of batches, most never looked up again before compaction takes them).
  const { ids, min, max } = only;
  if (ids.size * 16 >= entries || entries > POSITIONS || (!read.byId && (read.lookups = (read.lookups ?? 0) + 1) < SORT_AFTER_LOOKUPS)) {
    for (let i = 0; i < entries; i++) {
      const id = f[i * DIRECTORY_FIELDS] as number;
      if (id >= min && id <= max && ids.has(id) && !taken?.[i]) add(batch, i, out);
    }
    return;
  }
  const byId = (read.byId ??= orderById(f, entries));
  for (const id of ids) {
    for (let k = lowerBound(byId, id * POSITIONS); k < entries && Math.floor((byId[k] as number) / POSITIONS) === id; k++) {
      const i = (byId[k] as number) % POSITIONS;
      if (!taken?.[i]) add(batch, i, out);
    }
  }
}

/** A batch's directory, parsed, with the range of its series ids. */
function readBatch(dir: Uint8Array, dataBytes: number, keep: boolean): ReadBatch {
  const fields = directoryFields(dir);
  let minId = Infinity;
  let maxId = -Infinity;
  for (let at = 0; at < fields.length; at += DIRECTORY_FIELDS) {
    const id = fields[at] as number;
    if (id < minId) minId = id;
    if (id > maxId) maxId = id;
  }
  return { dirBytes: dir.length, dataBytes, minId, maxId, ...(keep && { fields }) };
}

function add({ seq, read }: Backlog['batches'][number], i: number, out: Map<number, Located[]>): void {
  const f = read.fields as Float64Array;
  const at = i * DIRECTORY_FIELDS;
  const seriesId = f[at] as number;
  const located: Located = { seriesId, first: f[at + 1] as number, last: f[at + 2] as number, count: f[at + 3] as number, expires: f[at + 4] as number, offset: f[at + 5] as number, length: f[at + 6] as number, seq };
  const list = out.get(seriesId);
  if (list) list.push(located);
  else out.set(seriesId, [located]);
}

/** The series a read looks for, with their least and greatest id. */
interface Wanted {
  readonly ids: ReadonlySet<number>;
  readonly min: number;
  readonly max: number;
}

/** Lookups of a few series in a batch after which its entries are sorted by id. */
const SORT_AFTER_LOOKUPS = 4;

/** Positions a batch's order by id can hold: an entry is `id × POSITIONS + position`, exact below 2^53 for ids below 2^32. */
const POSITIONS = 2 ** 21;

/** The entries as `id × POSITIONS + position`, sorted (a numeric sort of doubles, no comparator: ~1 ms for 10,000). */
function orderById(f: Float64Array, entries: number): Float64Array {
  const order = new Float64Array(entries);
  for (let i = 0; i < entries; i++) order[i] = (f[i * DIRECTORY_FIELDS] as number) * POSITIONS + i;
  return order.sort();
}


export class RecentBatches {
  #backlog: Backlog | undefined;
  /** Directories read, by batch: a batch's directory is read once, not at every change of the file. */
  readonly #read = new Map<number, ReadBatch>();

  constructor(
    private readonly sql: Statements,
    /** Changes whenever the file may have changed: this connection's changes and other connections' commits. */
    private readonly version: () => string,
  ) {}

  /**
   * Reads the directories of the backlog left in the file a batch at a time, with a turn between batches, so that the
   * first read after opening does not read them all in one stretch (64 batches of 10,000 series: ~42 ms). Stops once
   * `open()` is false; a batch that changes meanwhile is read again when a read needs it.
   */
  async learn(open: () => boolean): Promise<void> {
    for (const { seq, dirBytes, dataBytes } of this.sql.oldestBatches.all(Number.MAX_SAFE_INTEGER)) {
      await new Promise((resolve) => setImmediate(resolve));
      if (!open()) return;
      const known = this.#read.get(seq);
      if (known && known.dirBytes === dirBytes && known.dataBytes === dataBytes) continue;
      const row = this.sql.directoryOf.get(seq);
      if (row) this.#read.set(seq, readBatch(row.dir, row.dataBytes, false));
    }
  }

  /** Appends one write as one batch (nothing for an empty write). */
  append(parts: readonly SeriesPart[]): void {
    this.insert(RecentBatches.pack(parts));
  }

  /** A write's parts as a batch's directory and data, ready to insert (undefined for an empty write). */
  static pack(parts: readonly SeriesPart[]): PackedBatch | undefined {
    return parts.length === 0 ? undefined : packBatch(parts);
  }

  /** Appends a packed batch (nothing for an empty write). */
  insert(batch: PackedBatch | undefined): void {
    if (batch) this.remember(Number(this.sql.insertBatch.run(batch.dir, batch.data).lastInsertRowid), batch);
  }
  /**
   * Parses the directory of a batch written as `seq` now, while it is at hand: a read after a burst of writes would
   * otherwise parse every batch of the backlog at once (64 batches of 10,000 new series: ~45 ms).
   */
  remember(seq: number, batch: PackedBatch): void {
    this.#read.set(seq, readBatch(batch.dir, batch.data.length, false));
  }


  /**
   * The parts of the given series not yet compacted, by series id: one pass over each batch's directory in place
   * (directories are read once per batch, the taken marks once per change of the file).
   */
  located(only: ReadonlySet<number>): Map<number, Located[]> {
    const out = new Map<number, Located[]>();
    let min = Infinity;
    let max = -Infinity;
    for (const id of only) {
      if (id < min) min = id;
      if (id > max) max = id;
    }
    const wanted: Wanted = { ids: only, min, max };
    for (const batch of this.#current().batches) collect(batch, out, wanted, (b) => (b.read.fields ??= this.#fieldsOf(b.seq)));
    return out;
  }

  /** The backlog as of the file's current version: its batches' sizes and taken marks read, new directories parsed. */
  #current(): Backlog {
    const version = this.version();
    if (this.#backlog?.version === version) return this.#backlog;
    const batches = [];
    const present = new Set<number>();
    for (const { seq, dirBytes, dataBytes, taken } of this.sql.oldestBatches.all(Number.MAX_SAFE_INTEGER)) {
      present.add(seq);
      let read = this.#read.get(seq);
      if (!read || read.dirBytes !== dirBytes || read.dataBytes !== dataBytes) {
        const row = this.sql.directoryOf.get(seq);
        if (!row) continue;
        read = readBatch(row.dir, row.dataBytes, true);
        this.#read.set(seq, read);
      }
      batches.push({ seq, read, taken });
    }
    for (const seq of this.#read.keys()) if (!present.has(seq)) this.#read.delete(seq);
    this.#backlog = { version, batches };
    return this.#backlog;
  }

  /** The entries of batch `seq` as read now (none when it has been compacted meanwhile). */
  #fieldsOf(seq: number): Float64Array {
    const row = this.sql.directoryOf.get(seq);
    return row ? directoryFields(row.dir) : new Float64Array(0);
  }

  /** A part as a merge source; undefined when its batch has been compacted meanwhile. */
  source(storage: StorageKind, at: Located, parts?: PartReader): Source | undefined {
    const data = parts ? parts.part(at) : this.sql.batchPart.get(at.offset + 1, at.length, at.seq)?.part;
    return data && recentSource(storage, { seq: at.seq, first: at.first, last: at.last, expires: at.expires || null, data });
  }

  /** The reader of the parts `located` found for a page of series (see PartReader). */
  reader(located: ReadonlyMap<number, readonly Located[]>): PartReader {
    return new PartReader(this.sql, located);
  }

  /** Writes a series' part again with only `kept` points, or removes it (range deletes). */
  rewrite(storage: StorageKind, at: Located, kept: { timestamps: readonly number[]; values: readonly StoredValue[] }): void {
    const batch = this.sql.batch.get(at.seq);
    if (!batch) return;
    const entries = this.#pending(at.seq, batch.dir).filter((e) => e.seriesId !== at.seriesId);
    let data: Uint8Array = batch.data;
    if (kept.timestamps.length > 0) {
      const part = encodeRecent(storage, kept.timestamps, kept.values);
      data = new Uint8Array(batch.data.length + part.length);
      data.set(batch.data);
      data.set(part, batch.data.length);
      entries.push({ ...at, first: kept.timestamps[0] as number, last: kept.timestamps.at(-1) as number, count: kept.timestamps.length, offset: batch.data.length, length: part.length });
    }
    if (entries.length === 0) this.sql.deleteBatch.run(at.seq);
    else this.sql.updateBatch.run(writeDirectory(entries), data, at.seq);
  }

  /** The entries of a batch compaction has not moved yet, as the whole directory from now on. */
  #pending(seq: number, dir: Uint8Array): BatchEntry[] {
    const taken = this.sql.takenOf.get(seq)?.taken;
    this.sql.deleteTaken.run(seq);
    return readDirectory(dir).filter((_, i) => !taken?.[i]);
  }

  /** Removes every part of the given series (whole-metric deletes). */
  removeSeries(ids: ReadonlySet<number>): void {
    for (const { seq, dir, taken } of this.sql.directories.all()) {
      const entries = readDirectory(dir).filter((_, i) => !taken?.[i]);
      const kept = entries.filter((e) => !ids.has(e.seriesId));
      if (kept.length === entries.length) continue;
      this.sql.deleteTaken.run(seq);
      if (kept.length === 0) this.sql.deleteBatch.run(seq);
      else this.sql.updateBatchDir.run(writeDirectory(kept), seq);
    }
  }
}

/** Bytes of whole batches one reader keeps at once; past them, each further part is read alone. */
const SHARED_BATCH_BYTES = 32 * 1024 * 1024;

/**
 * The parts of a page of series, read from their batches: a batch holding several of them is read whole, once
 * (SQLite reads a blob whole even for `substr`: the part of one series among a batch of 10,000 new ones cost ~28 µs,
 * a sum over 10,000 series ~300 ms), any other part alone. Parts are copied out, so the batches go with the reader.
 * A reader serves one snapshot (the store's `#pageSources`), which the parts' directories were read in too.
 */
export class PartReader {
  /** Batches read whole (null: gone). */
  readonly #whole = new Map<number, Uint8Array | null>();
  /** Parts wanted per batch. */
  readonly #wanted = new Map<number, number>();
  #bytes = 0;

  constructor(
    private readonly sql: Statements,
    located: ReadonlyMap<number, readonly Located[]>,
  ) {
    for (const parts of located.values()) for (const at of parts) this.#wanted.set(at.seq, (this.#wanted.get(at.seq) ?? 0) + 1);
  }

  /** A part's bytes; undefined when its batch has been compacted meanwhile. */
  part(at: Located): Uint8Array | undefined {
    if ((this.#wanted.get(at.seq) ?? 0) > 1) {
      let data = this.#whole.get(at.seq);
      if (data === undefined && this.#bytes < SHARED_BATCH_BYTES) {
        data = this.sql.batchData.get(at.seq)?.data ?? null;
        this.#whole.set(at.seq, data);
        this.#bytes += data?.length ?? 0;
      }
      if (data === null) return undefined;
      if (data !== undefined) return data.slice(at.offset, at.offset + at.length);
    }
    return this.sql.batchPart.get(at.offset + 1, at.length, at.seq)?.part;
  }
}
