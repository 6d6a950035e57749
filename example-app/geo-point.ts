import { number, object, refine } from 'superstruct';
import type { CustomTypeDefinition } from '../src/index.js';

/** A custom type for tests: `{lat, lon}` in range, stored as two big-endian doubles. */
export const geoPoint: CustomTypeDefinition<{ lat: number; lon: number }> = {
  name: 'geo-point',
  struct: object({
    lat: refine(number(), 'latitude', (v) => v >= -90 && v <= 90),
    lon: refine(number(), 'longitude', (v) => v >= -180 && v <= 180),
  }),
  encode: ({ lat, lon }) => {
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, lat);
    view.setFloat64(8, lon);
    return bytes;
  },
  decode: (bytes) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { lat: view.getFloat64(0), lon: view.getFloat64(8) };
  },
};
