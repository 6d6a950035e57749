/*
 * An independent reading of SPEC §1.3–1.4, written for the property test only: does a parsed
 * body deserve 204? It shares no code with src/.
 */
const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const MAX = 9007199254740991;

const plainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const wellFormed = (s: string) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
const asNumber = (v: unknown): number | undefined => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && NUMBER_TEXT.test(v) && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};
const safeInteger = (n: number) => Number.isInteger(n) && Math.abs(n) <= MAX;

function timestampOk(v: unknown): boolean {
  if (typeof v === 'string') return /^[+-]?[0-9]+$/.test(v) && Math.abs(Number(v)) <= MAX;
  const n = asNumber(v);
  return n !== undefined && Math.abs(Math.trunc(n)) <= MAX;
}

function fits(value: unknown, type: string): boolean {
  switch (type) {
    case 'long':
      if (typeof value === 'string') return NUMBER_TEXT.test(value) && !value.includes('.') && safeInteger(Number(value));
      return typeof value === 'number' && safeInteger(value);
    case 'double':
      return asNumber(value) !== undefined;
    case 'string':
      return typeof value === 'number' || typeof value === 'boolean' || (typeof value === 'string' && wellFormed(value));
    case 'complex':
    case 'complex-number':
      return plainObject(value) && asNumber(value.real) !== undefined && asNumber(value.imaginary) !== undefined;
    case 'geo-point':
      return (
        plainObject(value) &&
        Object.keys(value).every((k) => k === 'lat' || k === 'lon') &&
        typeof value.lat === 'number' && value.lat >= -90 && value.lat <= 90 &&
        typeof value.lon === 'number' && value.lon >= -180 && value.lon <= 180
      );
    default:
      return false;
  }
}

function inferredOk(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value) && (!Number.isInteger(value) || Math.abs(value) <= MAX);
  if (typeof value === 'boolean') return true;
  if (typeof value !== 'string' || value === '') return false;
  if (!NUMBER_TEXT.test(value)) return wellFormed(value);
  const n = Number(value);
  return Number.isFinite(n) && (value.includes('.') || safeInteger(n));
}

function valueOk(value: unknown, type: unknown): boolean {
  if (type == null) return inferredOk(value);
  if (typeof type !== 'string') return false;
  if (value == null || (Array.isArray(value) && value.length === 0)) return false;
  if (value === '' && type !== 'string') return false;
  return fits(value, type);
}

const KNOWN = new Set(['long', 'double', 'string', 'complex', 'complex-number', 'geo-point']);

function metricOk(m: unknown): boolean {
  if (!plainObject(m)) return false;
  const nameOk = (typeof m.name === 'string' && m.name !== '' && wellFormed(m.name)) || (typeof m.name === 'number' && Number.isFinite(m.name));
  if (!nameOk || !plainObject(m.tags) || Object.keys(m.tags).length === 0) return false;
  for (const [k, v] of Object.entries(m.tags)) {
    if (k === '' || !wellFormed(k)) return false;
    if (!((typeof v === 'string' && v !== '' && wellFormed(v)) || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean')) return false;
  }
  if (m.ttl != null) {
    const ttl = asNumber(m.ttl);
    if (ttl === undefined || !Number.isInteger(ttl) || ttl < 0 || ttl > 630720000) return false;
  }
  if (m.type != null && (typeof m.type !== 'string' || !KNOWN.has(m.type))) return false;
  const ts = m.time ?? m.timestamp;
  if (ts != null) {
    if (m.value === undefined || !timestampOk(ts) || !valueOk(m.value, m.type)) return false;
  } else if (m.value != null) {
    return false;
  }
  if (m.datapoints == null) return true;
  if (!Array.isArray(m.datapoints)) return false;
  return m.datapoints.every((p) => {
    if (!Array.isArray(p) || p.length < 2 || p[0] == null || !timestampOk(p[0])) return false;
    const own = p.length > 2 && p[2] != null;
    if (own && (typeof p[2] !== 'string' || !KNOWN.has(p[2]))) return false;
    return valueOk(p[1], own ? p[2] : m.type);
  });
}

/** Whether a parsed body is valid per the SPEC (204), as read independently of the library. */
export function referenceValid(body: unknown): boolean {
  if (Array.isArray(body)) return body.every(metricOk);
  return plainObject(body) && metricOk(body);
}
