/**
 * Refuses option keys nobody reads, with a "did you mean" for a near miss: a misspelt option must fail at start,
 * not be ignored (`prefx`, `maxBodySize`, `{ file }` for `{ path }`).
 * @param where how the options are named in the message, e.g. `kairosdb(options)` or `SqliteStore(options)`
 * @param hints other words users try for a key, e.g. `{ file: 'path' }`
 */
export function rejectUnknownKeys(where: string, given: object, known: readonly string[], hints: Record<string, string> = {}): void {
  for (const key of Object.keys(given)) {
    if (known.includes(key)) continue;
    const guess = hints[key] ?? closest(key, known);
    const suggestion = guess === undefined ? `; known options: ${known.join(', ')}` : `; did you mean '${guess}'?`;
    throw optionError(`${where}: unknown option '${key}'${suggestion}`);
  }
}

/** The known key nearest to `key` by edit distance (case ignored), when near enough to be a slip. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length * 0.4)) + 1;
  for (const candidate of known) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance, two rows; option names are short. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length] as number;
}

/** A bad option: a `TypeError` with the code `ERR_KAIROSDB_OPTION`, so a host can tell configuration errors apart. */
export function optionError(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_KAIROSDB_OPTION' as const });
}
