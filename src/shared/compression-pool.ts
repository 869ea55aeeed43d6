/**
 * CompressionPool: compresses and decompresses whole record batches on a small piscina pool, so
 * the CPU work of a codec never stalls an I/O loop (DESIGN §1). Each call is one task; the work is
 * compressBatchSync / decompressBatchSync from record-batch/, run in dist/workers/compression.worker.js.
 *
 * Copies: a batch that is a view into a larger buffer (a slice of a buffer pool, of Node's shared
 * Buffer slab, of a SharedArrayBuffer) is copied once into its own ArrayBuffer and that copy is
 * transferred, since structured clone would copy the whole underlying buffer; a batch that owns its
 * whole ArrayBuffer is cloned once and stays the caller's. Results come back moved, not copied.
 * Work that needs no codec (a batch already in the wanted form) is checked on the calling thread
 * and returned as is, without a thread hop.
 *
 * Errors keep their class across the hop: the task answers a failure as a WireError and it is
 * rebuilt here (CorruptRecordError, UnsupportedCompressionError, ...). A pool thread that dies is
 * WorkerExitedError.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { ConfigError, IllegalStateError, RinglogError, type WireError, WorkerExitedError, errorFromWire } from './errors.js';
import { type Logger, createRootLogger } from './logger.js';
import { compressBatchSync, decompressBatchSync } from './record-batch/batch-compression.js';
import { ATTRIBUTES_OFFSET, COMPRESSION_CODEC_MASK, Compression, type CompressionId } from './record-batch/layout.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from './record-batch/reader.js';
import { workerEntry } from './worker-entry.js';

/** What the pool sends a compression worker: bring `batch` to `compression` (none: decompress). */
export interface CompressionTask {
  batch: Uint8Array;
  compression: CompressionId;
  maxOutputBytes: number;
}

/** A worker's answer: the new batch, or the error that stopped it. */
export type CompressionTaskResult = Uint8Array | WireError;

export interface CompressionPoolOptions {
  /** Threads at most (default 1 on a 2-core machine: the other core keeps the I/O loops). */
  maxThreads?: number;
  /** A thread idle this long ends (default 10 s); the pool keeps none when idle. */
  idleTimeoutMs?: number;
  /** Tasks waiting or running at most; more is ERR_COMPRESSION_QUEUE_FULL (default 1024). */
  maxPendingTasks?: number;
  logger?: Logger;
}

const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_PENDING_TASKS = 1024;

function defaultMaxThreads(): number {
  return Math.max(1, Math.min(2, availableParallelism() - 1));
}

function positiveInteger(key: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(key, `must be a positive integer, got ${value}`);
  return value;
}

/** The batch's codec bits, or null when it is too short to have any (the sync path then says why). */
function peekCompression(batch: Uint8Array): number | null {
  return batch.byteLength > ATTRIBUTES_OFFSET + 1 ? batch[ATTRIBUTES_OFFSET + 1] & COMPRESSION_CODEC_MASK : null;
}

/** True when `batch` is the whole of an ArrayBuffer (not a view into a pool, slab or shared memory). */
function ownsWholeBuffer(batch: Uint8Array): boolean {
  return batch.buffer instanceof ArrayBuffer && batch.byteOffset === 0 && batch.byteLength === batch.buffer.byteLength;
}

export class CompressionPool {
  private readonly piscina: Piscina<CompressionTask, CompressionTaskResult>;
  private readonly logger: Logger;
  private readonly maxPendingTasks: number;
  /** Tasks handed to piscina and not yet answered; close() lets them finish. */
  private readonly pending = new Set<Promise<unknown>>();
  private closed: Promise<void> | null = null;

  constructor(options: CompressionPoolOptions = {}) {
    const maxThreads = positiveInteger('maxThreads', options.maxThreads, defaultMaxThreads());
    this.maxPendingTasks = positiveInteger('maxPendingTasks', options.maxPendingTasks, DEFAULT_MAX_PENDING_TASKS);
    this.logger = (options.logger ?? createRootLogger()).child({ actor: 'compression-pool' });
    this.piscina = new Piscina({
      filename: fileURLToPath(workerEntry('compression')),
      minThreads: 0,
      maxThreads,
      idleTimeout: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      // 'sync' parks an idle thread in Atomics.wait with its event loop frozen. That is the pitfall
      // for loops with timers or ports, and exactly right for this task: synchronous, no handles.
      atomics: 'sync',
    });
    // piscina reports threads that fail outside a task here; unheard, an 'error' event would throw.
    this.piscina.on('error', (err: unknown) => this.logger.error({ err }, 'compression pool thread failed'));
  }

  /** Threads alive now (none while idle). */
  get threads(): number {
    return this.piscina.threads.length;
  }

  /**
   * `batch`, a complete uncompressed RecordBatch v2, with its records compressed by `compression`;
   * `none` returns it as is. See compressBatchSync for compressed input.
   */
  compressBatch(batch: Uint8Array, compression: CompressionId): Promise<Buffer> {
    return this.run(batch, compression, DEFAULT_MAX_DECOMPRESSED_BYTES);
  }

  /** The uncompressed equivalent of `batch` (records at most `maxOutputBytes`); an uncompressed batch as is. */
  decompressBatch(batch: Uint8Array, maxOutputBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Buffer> {
    return this.run(batch, Compression.none, maxOutputBytes);
  }

  /** Lets every task already asked for finish, then ends every thread. Later calls fail with IllegalStateError. */
  close(): Promise<void> {
    this.closed ??= Promise.allSettled(this.pending).then(() => this.piscina.close());
    return this.closed;
  }

  private async run(batch: Uint8Array, compression: CompressionId, maxOutputBytes: number): Promise<Buffer> {
    if (this.closed !== null) throw new IllegalStateError('the compression pool is closed');
    const current = peekCompression(batch);
    // Nothing for a codec to do (or too short to be a batch): validate and answer on this thread.
    if (current === null || current === compression) {
      return compression === Compression.none ? decompressBatchSync(batch, maxOutputBytes) : compressBatchSync(batch, compression);
    }
    if (this.pending.size >= this.maxPendingTasks) {
      throw new RinglogError('ERR_COMPRESSION_QUEUE_FULL', `the compression pool already has ${this.pending.size} tasks pending (maxPendingTasks)`, { retriable: true });
    }
    const owned = ownsWholeBuffer(batch) ? batch : new Uint8Array(batch);
    const task = this.piscina.run(
      { batch: owned, compression, maxOutputBytes },
      // Transfer only the copy made here; the caller's own buffer is cloned and stays usable.
      owned === batch ? {} : { transferList: [owned.buffer as ArrayBuffer] },
    );
    this.pending.add(task);
    let result: CompressionTaskResult;
    try {
      result = await task;
    } catch (err) {
      throw new WorkerExitedError(`a compression pool thread failed: ${(err as Error).message}`, { cause: err });
    } finally {
      this.pending.delete(task);
    }
    if (ArrayBuffer.isView(result)) return Buffer.from(result.buffer, result.byteOffset, result.byteLength);
    throw errorFromWire(result);
  }
}
