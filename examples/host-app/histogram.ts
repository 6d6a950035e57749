import { array, min, number, object, refine, size } from 'superstruct';
import type { CustomTypeDefinition } from 'koa-kairosdb';

/** A histogram value: bucket upper bounds and the count in each. */
export interface Histogram {
  bounds: number[];
  counts: number[];
}

/** The `histogram` type: JSON `{ "bounds": [...], "counts": [...] }`, stored as the two arrays of float64. */
export const histogram: CustomTypeDefinition<Histogram> = {
  name: 'histogram',
  struct: refine(
    object({ bounds: size(array(number()), 1, 64), counts: size(array(min(number(), 0)), 1, 64) }),
    'same-length',
    (h) => h.bounds.length === h.counts.length,
  ),
  encode: ({ bounds, counts }) => new Uint8Array(Float64Array.from([...bounds, ...counts]).buffer),
  decode: (bytes) => {
    const all = Array.from(new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
    return { bounds: all.slice(0, all.length / 2), counts: all.slice(all.length / 2) };
  },
};
