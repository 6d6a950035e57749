/**
 * Online backup of a store's file: `VACUUM INTO` from a read-only connection of its own in a short-lived worker thread.
 * One read transaction, so the copy is the file as it was when the backup started, consistent, taken while writes go
 * on and without holding the event loop. (SQLite's backup API starts over whenever another connection writes, and
 * the compaction worker writes every few ms: on a busy store it might never finish.)
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** What `onProgress` hears: bytes written to the backup so far, and about how many it will have. */
export interface BackupProgress {
  readonly bytes: number;
  /** The source's pages × page size; the copy is smaller by its free pages (the last call has the final size). */
  readonly estimatedBytes: number;
}

/** Options of `SqliteStore#backup`. */
export interface BackupOptions {
  /** Called every `progressIntervalMs` while the copy is written, and once at the end. */
  onProgress?: (progress: BackupProgress) => void;
  /** @default 250 */
  progressIntervalMs?: number;
}

const SCRIPT = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.source, { readonly: true, fileMustExist: true });
try {
  db.pragma('busy_timeout = 5000');
  db.prepare('VACUUM INTO ?').run(workerData.destination);
} finally {
  db.close();
}
`;

/** Copies the database file `source` to `destination` (which must not exist) in a worker thread. */
export async function backupFile(source: string, destination: string, estimatedBytes: number, options: BackupOptions): Promise<{ bytes: number }> {
  if (existsSync(destination)) throw new Error(`SqliteStore.backup: '${destination}' exists; give the path of a file that does not`);
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(SCRIPT, { eval: true, workerData: { driver, source, destination } });
  const { onProgress } = options;
  const timer = onProgress ? setInterval(() => onProgress({ bytes: sizeOf(destination), estimatedBytes }), options.progressIntervalMs ?? 250) : undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`SqliteStore.backup: the backup thread exited with code ${code}`))));
    });
  } catch (error) {
    // Nothing half-written is left behind under the backup's name.
    rmSync(destination, { force: true });
    throw new Error(`SqliteStore.backup: could not write '${destination}': ${(error as Error).message}`, { cause: error });
  } finally {
    clearInterval(timer);
  }
  const bytes = sizeOf(destination);
  onProgress?.({ bytes, estimatedBytes: bytes });
  return { bytes };
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
