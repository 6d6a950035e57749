import { createHash } from 'node:crypto';
import type { Tags } from '../../store-api/contract.js';

/** 16 bytes of SHA-256 over the tags sorted by name, each name and value length-prefixed. */
export function seriesId(tags: Tags): Buffer {
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
