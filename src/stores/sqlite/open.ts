import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { requirePeer } from '../../optional-peer.js';
import { inMemory } from './options.js';

/** Opens (and creates) the database file, creating its directory; a failure names the path. */
export function open(path: string): Database.Database {
  const Driver = requirePeer<typeof Database>('better-sqlite3');
  try {
    if (!inMemory(path)) mkdirSync(dirname(resolve(path)), { recursive: true });
    return new Driver(path);
  } catch (error) {
    throw new Error(`SqliteStore: cannot open the database '${path}': ${(error as Error).message}`, { cause: error });
  }
}
