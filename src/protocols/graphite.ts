/**
 * Graphite's plaintext protocol (`<path> <value> <timestamp>`, seconds), mapped as KairosDB's carbon plugin maps it by
 * default (its HostTagParser): the path's second part is the `host` tag, the rest the metric name
 * (`collectd.web1.cpu-0.idle` → `collectd.cpu-0.idle` with `host=web1, type=graphite`).
 */
import type { LineResult } from './lines.js';

/** A metric name and tags made from a Graphite path (a tag whose value is undefined is left out); undefined drops the line. */
export type GraphiteMapping = (path: string) => { name: string; tags: Readonly<Record<string, string | undefined>> } | undefined;

/** KairosDB's carbon plugin's default: a path of at least three parts; the second is the host. */
export const hostTagMapping: GraphiteMapping = (path) => {
  const first = path.indexOf('.');
  const second = first < 0 ? -1 : path.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || second === path.length - 1) return undefined;
  return { name: `${path.slice(0, first)}.${path.slice(second + 1)}`, tags: { host: path.slice(first + 1, second), type: 'graphite' } };
};

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** One plaintext line, already split at whitespace. */
export function graphiteLine(words: readonly string[], mapping: GraphiteMapping): LineResult {
  if (words.length !== 3) return { error: `a line is '<path> <value> <timestamp>', got ${words.length} fields` };
  const [path, text, time] = words as [string, string, string];
  if (!DECIMAL.test(time)) return { error: `timestamp '${time.slice(0, 40)}' is not a number of seconds` };
  if (!DECIMAL.test(text)) return { error: `value '${text.slice(0, 40)}' is not a finite number (NaN and Infinity are dropped, as KairosDB drops them)` };
  const mapped = mapping(path);
  if (!mapped) return { error: `path '${path.slice(0, 80)}' has no metric and host in it for the mapping` };
  const timestamp = Math.round(Number(time) * 1000);
  const value = Number(text);
  if (!Number.isFinite(value) || !Number.isSafeInteger(timestamp)) return { error: `value or timestamp out of range` };
  const tags: Record<string, string> = {};
  for (const [name, tag] of Object.entries(mapped.tags)) if (tag !== undefined) tags[name] = tag;
  return { metric: { name: mapped.name, tags, timestamp, value, type: INTEGER.test(text) ? 'long' : 'double' } };
}
