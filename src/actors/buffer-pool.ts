/**
 * BufferPool: the producer's memory budget, as Kafka's BufferPool. It holds buffer.memory bytes:
 * batch.size buffers are kept on a free list for reuse, other sizes are allocated fresh and
 * counted against the same budget. When the budget is spent, allocate() waits, asynchronously so
 * the event loop runs on, first come first served, up to its timeout, then fails with a
 * TimeoutError (ERR_BUFFER_POOL_TIMEOUT). Memory comes back through deallocate(), when a batch
 * completes or fails. Main thread only; not thread-safe.
 */
import { TimeoutError } from '../shared/errors.js';

interface Waiter {
  size: number;
  resolve: (buffer: Buffer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class BufferPool {
  readonly totalMemoryBytes: number;
  readonly poolableSizeBytes: number;
  readonly #free: Buffer[] = [];
  /** Budget not held by the free list or by buffers in use. */
  #nonPooledAvailableBytes: number;
  readonly #waiters: Waiter[] = [];

  constructor(totalMemoryBytes: number, poolableSizeBytes: number) {
    if (!Number.isSafeInteger(poolableSizeBytes) || poolableSizeBytes <= 0 || poolableSizeBytes > totalMemoryBytes) {
      throw new RangeError(`buffer pool: batch size ${poolableSizeBytes} must be positive and at most the total memory ${totalMemoryBytes}`);
    }
    this.totalMemoryBytes = totalMemoryBytes;
    this.poolableSizeBytes = poolableSizeBytes;
    this.#nonPooledAvailableBytes = totalMemoryBytes;
  }

  /** Bytes that could be handed out now, free list included. */
  get availableMemoryBytes(): number {
    return this.#nonPooledAvailableBytes + this.#free.length * this.poolableSizeBytes;
  }

  /** Allocations waiting for memory. */
  get queued(): number {
    return this.#waiters.length;
  }

  /**
   * A buffer of `size` bytes (a reused one for the poolable size). Waits up to maxBlockMs for
   * memory to come back; a request larger than the whole budget fails at once.
   */
  allocate(size: number, maxBlockMs: number): Promise<Buffer> {
    if (size > this.totalMemoryBytes) {
      return Promise.reject(new RangeError(`cannot allocate ${size} bytes: buffer.memory is ${this.totalMemoryBytes}`));
    }
    if (this.#waiters.length === 0) {
      const buffer = this.#tryAllocate(size);
      if (buffer !== null) return Promise.resolve(buffer);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        size,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(new TimeoutError(
            'ERR_BUFFER_POOL_TIMEOUT',
            `could not allocate ${size} bytes within max.block.ms: ${this.availableMemoryBytes} of buffer.memory ${this.totalMemoryBytes} free`,
            maxBlockMs,
          ));
          this.#serveWaiters(); // a large request giving up may unblock smaller ones behind it
        }, maxBlockMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** A buffer of `size` bytes if memory is free now and nobody waits for it; otherwise null. */
  tryAllocate(size: number): Buffer | null {
    return this.#waiters.length === 0 ? this.#tryAllocate(size) : null;
  }

  /** Returns a buffer's memory to the pool; `size` is what was allocated. */
  deallocate(buffer: Buffer, size = buffer.length): void {
    if (size === this.poolableSizeBytes && buffer.length === this.poolableSizeBytes) this.#free.push(buffer);
    else this.#nonPooledAvailableBytes += size;
    this.#serveWaiters();
  }

  #tryAllocate(size: number): Buffer | null {
    if (size === this.poolableSizeBytes && this.#free.length > 0) return this.#free.pop()!;
    // Give free-list buffers back to the general budget until this allocation fits.
    while (this.#nonPooledAvailableBytes < size && this.#free.length > 0) {
      this.#free.pop();
      this.#nonPooledAvailableBytes += this.poolableSizeBytes;
    }
    if (this.#nonPooledAvailableBytes < size) return null;
    this.#nonPooledAvailableBytes -= size;
    return Buffer.allocUnsafe(size);
  }

  /** Serves waiters in arrival order; one that does not fit yet holds up those behind it (fairness). */
  #serveWaiters(): void {
    while (this.#waiters.length > 0) {
      const waiter = this.#waiters[0]!;
      const buffer = this.#tryAllocate(waiter.size);
      if (buffer === null) return;
      this.#waiters.shift();
      clearTimeout(waiter.timer);
      waiter.resolve(buffer);
    }
  }
}
