/**
 * OpenTSDB's `POST /api/put` body (one data point or an array): `{metric, timestamp, value, tags}`, each turned into a
 * metric of a KairosDB body. A timestamp over 2^32 − 1 is ms, else seconds (as OpenTSDB tells them apart); a value
 * is a number or a numeric string, an integer a long, else a double.
 */

/** One data point as a KairosDB metric, or why it is not one. */
export function openTsdbPoint(point: unknown): Record<string, unknown> | string {
  if (typeof point !== 'object' || point === null || Array.isArray(point)) return 'a data point is an object';
  const { metric, timestamp, value, tags } = point as Record<string, unknown>;
  if (typeof metric !== 'string' || metric === '') return 'metric is missing';
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) return 'timestamp is not a positive whole number of seconds or milliseconds';
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(number)) return 'value is not a number';
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags) || Object.keys(tags).length === 0) return 'at least one tag is required';
  const integer = Number.isInteger(number) && !(typeof value === 'string' && /[.eE]/.test(value));
  return { name: metric, timestamp: timestamp > 0xffff_ffff ? timestamp : timestamp * 1000, value: number, tags, type: integer ? 'long' : 'double' };
}
