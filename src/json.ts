import { isUtf8 } from 'node:buffer';

/** The parsed body, or the KairosDB-style message saying why it is not JSON. */
export type ParsedJson = { ok: true; value: unknown } | { ok: false; message: string };

/** Parses a request body as UTF-8 JSON; the top level must be an array or an object. */
export function parseJson(body: Buffer | string): ParsedJson {
  if (typeof body !== 'string' && !isUtf8(body)) {
    return { ok: false, message: 'Invalid json. The body is not valid UTF-8.' };
  }
  const text = jsonText(body);
  const first = firstSignificant(text);
  if (first === undefined) return { ok: false, message: 'Invalid json. No content due to end of input.' };
  if (first !== '[' && first !== '{') return { ok: false, message: 'Invalid start of json.' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, message: `Invalid json. ${(error as Error).message}` };
  }
}

/** A body's text as JSON.parse reads it: UTF-8, without a byte-order mark. */
export function jsonText(body: Buffer | string): string {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function firstSignificant(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== ' ' && c !== '\n' && c !== '\r' && c !== '\t') return c;
  }
  return undefined;
}

/** Whether a value is a JSON object (not null, not an array). */
export function isObject(json: unknown): json is Record<string, unknown> {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}
