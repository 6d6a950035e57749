/**
 * Elements `from` to `to` (exclusive) of a page's column (`PointPage` timestamps or values): a view when the column
 * is a typed array, a copy of anything else; the column itself when that is all of it.
 */
export function columnSlice<T>(column: ArrayLike<T>, from: number, to: number): ArrayLike<T> {
  if (from === 0 && to === column.length) return column;
  if (ArrayBuffer.isView(column)) return (column as unknown as Float64Array).subarray(from, to) as unknown as ArrayLike<T>;
  return Array.prototype.slice.call(column, from, to) as T[];
}
