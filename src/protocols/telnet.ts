/**
 * KairosDB's telnet protocol (its `core/telnet` package): `put <metric> <timestamp> <value> <tag=value>…` (a
 * timestamp below 3,000,000,000 is seconds), `putm` (milliseconds), `puts` (a text value), `version`. A value with a
 * `.` is a double, else a long; the tag `kairos_opt.ttl` is the TTL; a line without tags gets `add=tag`.
 */
import { VERSION } from '../version.js';
import type { LineResult } from './lines.js';

/** Below this, a `put` timestamp is taken as seconds (KairosDB's "backwards compatible hack for the next 30 years"). */
const SECONDS_BELOW = 3_000_000_000;
const INTEGER = /^[+-]?\d+$/;

/** One telnet line, already split at whitespace. */
export function telnetLine(words: readonly string[]): LineResult {
  const command = words[0] ?? '';
  if (command === 'version') return { reply: `KairosDB koa-kairosdb ${VERSION}\n` };
  if (command !== 'put' && command !== 'putm' && command !== 'puts') return { error: `unknown command '${command.slice(0, 40)}'` };
  if (words.length < 4) return { error: `${command} needs a metric, a timestamp and a value` };
  const [, name, time, text] = words as [string, string, string, string];
  if (!INTEGER.test(time)) return { error: `timestamp '${time.slice(0, 40)}' is not a whole number` };
  let timestamp = Number(time);
  if (command === 'put' && timestamp < SECONDS_BELOW) timestamp *= 1000;
  const metric: Record<string, unknown> = { name, timestamp, tags: {} };
  if (command === 'puts') {
    metric.value = text;
    metric.type = 'string';
  } else if (text.includes('.')) {
    const value = Number(text);
    if (!Number.isFinite(value)) return { error: `value '${text.slice(0, 40)}' is not a number` };
    metric.value = value;
    metric.type = 'double';
  } else {
    if (!INTEGER.test(text)) return { error: `value '${text.slice(0, 40)}' is not a number` };
    metric.value = Number(text);
    metric.type = 'long';
  }
  const tags = metric.tags as Record<string, string>;
  let tagCount = 0;
  for (let i = 4; i < words.length; i++) {
    const word = words[i] as string;
    const at = word.indexOf('=');
    if (at <= 0 || at === word.length - 1) return { error: `tag[${tagCount}] must be in the format 'name=value'` };
    const tag = word.slice(0, at);
    const value = word.slice(at + 1);
    if (tag === 'kairos_opt.ttl') {
      if (!INTEGER.test(value)) return { error: 'tag[kairos_opt.ttl] must be a number' };
      metric.ttl = Number(value);
      continue;
    }
    tags[tag] = value;
    tagCount++;
  }
  if (tagCount === 0) tags.add = 'tag';
  return { metric };
}
