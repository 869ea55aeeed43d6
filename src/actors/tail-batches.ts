/**
 * TailBatches: copies of the last batches appended to one partition, as they went to the log
 * writer (offsets assigned). A consumer at the log's end long-polls for exactly these: answering
 * from here saves the fetch a read from the log writer thread, and with it two cross-thread
 * wake-ups (tens of µs each on a VM, far more when a core is busy) on the end-to-end path. Only
 * batches the log writer reported written are served (the caller passes that end), so what a
 * fetch sees is what a read would return. Broker worker only; not thread-safe.
 */

interface TailBatch {
  baseOffset: number;
  lastOffset: number;
  bytes: Buffer;
}

export class TailBatches {
  readonly #maxBytes: number;
  readonly #maxBatchBytes: number;
  #batches: TailBatch[] = [];
  /** Index of the oldest batch kept: evicted ones are dropped from the front in bulk. */
  #first = 0;
  #bytes = 0;

  /**
   * Keeps at most `maxBytes` of the newest batches. A batch over `maxBatchBytes` is not kept, and
   * what came before it is dropped: large batches come from producers whose batching already
   * spreads a read's cost over many records, and copying them would tax the produce path.
   */
  constructor(maxBytes: number, maxBatchBytes = maxBytes) {
    this.#maxBytes = maxBytes;
    this.#maxBatchBytes = Math.min(maxBytes, maxBatchBytes);
  }

  /** A copy of one batch just handed to the log writer, holding offsets [baseOffset, lastOffset]. */
  add(baseOffset: number, lastOffset: number, batch: Uint8Array): void {
    const newest = this.#batches[this.#batches.length - 1];
    if (batch.length > this.#maxBatchBytes || (newest !== undefined && newest.lastOffset + 1 !== baseOffset)) {
      // Too large to keep, or not next to what is kept: start over after it.
      this.clear();
      if (batch.length > this.#maxBatchBytes) return;
    }
    this.#batches.push({ baseOffset, lastOffset, bytes: Buffer.from(batch) });
    this.#bytes += batch.length;
    while (this.#bytes > this.#maxBytes) this.#bytes -= this.#batches[this.#first++]!.bytes.length;
    if (this.#first > 64 && this.#first * 2 > this.#batches.length) {
      this.#batches = this.#batches.slice(this.#first);
      this.#first = 0;
    }
  }

  clear(): void {
    this.#batches = [];
    this.#first = 0;
    this.#bytes = 0;
  }

  /**
   * The kept batches from the one holding `offset`, ending below `endOffset`, up to maxBytes but
   * at least one batch, as one new buffer; null when `offset` is older than what is kept or
   * nothing below endOffset holds it.
   */
  read(offset: number, endOffset: number, maxBytes: number): Buffer | null {
    const batches = this.#batches;
    let i = this.#first;
    if (i >= batches.length || offset < batches[i]!.baseOffset) return null;
    while (i < batches.length && batches[i]!.lastOffset < offset) i++;
    let size = 0;
    let end = i;
    while (end < batches.length && batches[end]!.lastOffset < endOffset && (end === i || size + batches[end]!.bytes.length <= maxBytes)) {
      size += batches[end]!.bytes.length;
      end++;
    }
    if (end === i) return null;
    const out = Buffer.allocUnsafe(size);
    for (let at = 0; i < end; i++) {
      out.set(batches[i]!.bytes, at);
      at += batches[i]!.bytes.length;
    }
    return out;
  }
}
