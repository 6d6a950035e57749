/**
 * A stable sort that gives the event loop turns: runs of RUN items sorted natively, then merged pairwise, `pace`
 * asked after every STEP items moved. Sorting 100,000 series by their tags in one call held the loop ~250 ms.
 */
const RUN = 2048;
const STEP = 8192;

export async function pacedSort<T>(items: T[], compare: (a: T, b: T) => number, pace: () => Promise<void> | undefined): Promise<T[]> {
  if (items.length <= RUN) return items.sort(compare);
  let from = items.slice();
  for (let at = 0; at < from.length; at += RUN) {
    const run = from.slice(at, at + RUN).sort(compare);
    for (let k = 0; k < run.length; k++) from[at + k] = run[k] as T;
    await pace();
  }
  let to = new Array<T>(from.length);
  let moved = 0;
  for (let width = RUN; width < from.length; width *= 2) {
    for (let left = 0; left < from.length; left += 2 * width) {
      const mid = Math.min(left + width, from.length);
      const end = Math.min(left + 2 * width, from.length);
      let i = left;
      let j = mid;
      for (let k = left; k < end; k++) {
        // Stable: on a tie the left run's item comes first.
        to[k] = (j >= end || (i < mid && compare(from[i] as T, from[j] as T) <= 0) ? from[i++] : from[j++]) as T;
        if (++moved % STEP === 0) await pace();
      }
    }
    [from, to] = [to, from];
  }
  return from;
}
