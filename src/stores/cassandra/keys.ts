import { createHash } from 'node:crypto';
import type { Tags } from '../../store-api/contract.js';
import type { StorageKind } from '../../types/value-type.js';

const IDS = new WeakMap<Tags, { id: Buffer; hex: string }>();

/**
 * 16 bytes of SHA-256 over the tags sorted by name, each name and value length-prefixed. Kept per tag-set object
 * (tag sets are read-only, and the ingest path hands out one object for a set sent again): hashing every series of
 * every request was ~8 % of the Node side's CPU in a sustained ingest of 1,000 series a request.
 */
export function seriesId(tags: Tags): Buffer {
  return idOf(tags).id;
}

/** The series id and its hex (for keys of the store's caches), kept per tag-set object. */
export function idOf(tags: Tags): { id: Buffer; hex: string } {
  let known = IDS.get(tags);
  if (known === undefined) {
    const id = hashTags(tags);
    IDS.set(tags, (known = { id, hex: id.toString('hex') }));
  }
  return known;
}

function hashTags(tags: Tags): Buffer {
  const hash = createHash('sha256');
  const length = Buffer.alloc(4);
  for (const name of Object.keys(tags).sort()) {
    for (const text of [name, tags[name] as string]) {
      const bytes = Buffer.from(text, 'utf8');
      length.writeUInt32BE(bytes.length);
      hash.update(length).update(bytes);
    }
  }
  return hash.digest().subarray(0, 16);
}

/** The start of the bucket a timestamp falls in. */
export function bucketOf(timestamp: number, width: number): number {
  return Math.floor(timestamp / width) * width;
}

const BUILT_IN_STORAGE = new Set<string>(['long', 'double', 'string']);

/** How a type's values are kept: the built-ins in their own column, every other type as bytes. */
export function storageOf(type: string): StorageKind {
  return BUILT_IN_STORAGE.has(type) ? (type as StorageKind) : 'bytes';
}

