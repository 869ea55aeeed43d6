/**
 * GrowableIndex: an in-memory table of fixed-width numeric entries sorted by column 0, with a
 * binary search. Backs the offset and time indexes (columns: relative offset and position, or
 * timestamp and relative offset). Numbers are float64, so timestamps (int64 ms) fit exactly.
 */
export class GrowableIndex {
  readonly #width: number;
  #data: Float64Array;
  #length = 0;

  constructor(width: number, initialEntries = 64) {
    this.#width = width;
    this.#data = new Float64Array(width * initialEntries);
  }

  get length(): number {
    return this.#length;
  }

  get(entry: number, column: number): number {
    return this.#data[entry * this.#width + column]!;
  }

  push(...values: number[]): void {
    if ((this.#length + 1) * this.#width > this.#data.length) {
      const grown = new Float64Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    const at = this.#length * this.#width;
    for (let column = 0; column < this.#width; column++) this.#data[at + column] = values[column]!;
    this.#length++;
  }

  truncate(entries: number): void {
    this.#length = Math.min(this.#length, Math.max(0, entries));
  }

  /** The last entry whose `column` is <= key (the column must be non-decreasing), or -1. */
  lastAtOrBefore(column: number, key: number): number {
    let lo = 0;
    let hi = this.#length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.get(mid, column) <= key) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}
