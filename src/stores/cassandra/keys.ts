import * as crypto from 'node:crypto';
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
  const input = tagPairs(tags, Object.keys(tags).sort(), false);
  // One-shot hashing where Node has it (20.12+): a Hash object per new series was a large part of its garbage.
  const digest = oneShot ? oneShot('sha256', input, 'buffer') : crypto.createHash('sha256').update(input).digest();
  return digest.subarray(0, 16);
}

const oneShot = (crypto as { hash?: (algorithm: string, data: Buffer, encoding: 'buffer') => Buffer }).hash;

/**
 * A tag set's names (in the given order) and values, each as a 4-byte big-endian length and its UTF-8 bytes, after
 * their count when `counted`: the series id's hash input, and (counted) a CQL `map<text, text>` value.
 */
export function tagPairs(tags: Tags, names: readonly string[], counted: boolean): Buffer {
  let length = counted ? 4 : 0;
  for (const name of names) length += 8 + Buffer.byteLength(name) + Buffer.byteLength(tags[name] as string);
  const out = Buffer.allocUnsafe(length);
  let at = counted ? out.writeUInt32BE(names.length, 0) : 0;
  for (const name of names) {
    for (const text of [name, tags[name] as string]) {
      const n = out.write(text, at + 4);
      out.writeUInt32BE(n, at);
      at += 4 + n;
    }
  }
  return out;
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

