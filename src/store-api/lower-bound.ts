/** The first position in `sorted` (ascending) whose item is at least `key`: `sorted.length` when none is. */
export function lowerBound<T extends number | string>(sorted: ArrayLike<T>, key: T): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as T) < key) low = mid + 1;
    else high = mid;
  }
  return low;
}
