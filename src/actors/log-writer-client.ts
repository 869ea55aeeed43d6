/**
 * LogWriterClient: the owner's end of a log writer worker (the broker holds one per log
 * directory). It sends appends and commands over the "appends" channel, reads progress and
 * replies from the "acks" channel, and tells waiters when a partition is written or durable up to
 * an offset. Lives on one event-loop thread (the broker worker, or the main thread in tests).
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { ChannelReader, ChannelWriter, createChannel } from '../shared/channel.js';
import { ChunkPool } from '../shared/chunk-pool.js';
import { withTimeout } from '../shared/deadline.js';
import { errorFromWire, IllegalStateError, MailboxFullError, WorkerExitedError, type WireError } from '../shared/errors.js';
import { LogWriterFrame, LogWriterOp } from '../shared/layout.js';
import { forwardWorkerLogs, type Logger } from '../shared/logger.js';
import { OrderedWriter } from '../shared/ordered-writer.js';
import { copyOut, readThroughUntilClosed } from '../shared/ring-read.js';
import { workerEntry } from '../shared/worker-entry.js';
import type { LogWriterCommand, OffsetsResult, OpenResult, RetentionResult } from './log-writer.js';

export interface LogWriterClientOptions {
  logDir: string;
  logger: Logger;
  channelCapacityBytes?: number;
  commandTimeoutMs?: number;
}

export interface PartitionProgress {
  writtenEndOffset: number;
  durableEndOffset: number;
}

const DEFAULT_CHANNEL_CAPACITY_BYTES = 8 << 20;
const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
/** Largest read asked of the writer at once; a bigger fetch reads in several steps. */
export const MAX_READ_BYTES = 8 << 20;
const IDLE_SLICE_MS = 1_000;
/** Recycled read memory kept at most per thread: a few fetches' worth of maximal reads. */
const MAX_POOLED_READ_BYTES = 2 * MAX_READ_BYTES;
/** Memory of large reads, shared by this thread's clients. */
const readBuffers = new ChunkPool(MAX_POOLED_READ_BYTES);

/**
 * Gives the memory of a read() result back for later reads. Only for a result nobody will look at
 * again (the broker calls it once a Fetch response carries a copy); other buffers are ignored.
 */
export function recycleRead(bytes: Uint8Array): void {
  readBuffers.giveBack(bytes);
}
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export class LogWriterClient {
  readonly #worker: Worker;
  readonly #appends: OrderedWriter;
  readonly #appendsWriter: ChannelWriter;
  readonly #commandTimeoutMs: number;
  /** Free channel bytes a blocked appendAsync waits for. */
  readonly #resumeBytes: number;
  readonly #progress = new Map<number, PartitionProgress>();
  readonly #replies = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly #listeners = new Set<(partitionId: number, progress: PartitionProgress) => void>();
  readonly #exitListeners = new Set<(error: WorkerExitedError) => void>();
  readonly #exited: Promise<number>;
  readonly #head = new Uint8Array(LogWriterFrame.APPEND_HEADER_BYTES);
  readonly #headView = new DataView(this.#head.buffer);
  #nextRequestId = 1;
  #exitError: Error | undefined;

  constructor(options: LogWriterClientOptions) {
    const capacityBytes = options.channelCapacityBytes ?? DEFAULT_CHANNEL_CAPACITY_BYTES;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const appends = createChannel({ capacityBytes });
    this.#resumeBytes = capacityBytes / 2;
    // Replies carry read data: room for several maximal reads at once.
    const acks = createChannel({ capacityBytes: 4 * MAX_READ_BYTES });
    const logs = new MessageChannel();
    this.#worker = new Worker(workerEntry('log-writer'), {
      workerData: { logDir: options.logDir, appends, acks, log: logs.port2, logLevel: options.logger.level },
      transferList: [logs.port2],
      name: 'ringlog:log-writer',
    });
    forwardWorkerLogs(logs.port1, options.logger);
    this.#appendsWriter = new ChannelWriter(appends);
    this.#appends = new OrderedWriter(this.#appendsWriter, {
      flushTimeoutMs: this.#commandTimeoutMs,
      onFlushError: (error) => options.logger.error({ err: error }, 'could not hand appends to the log writer'),
    });
    this.#worker.on('error', (error) => { this.#exitError = error; });
    this.#exited = new Promise((resolve) => this.#worker.once('exit', (code) => {
      // Wake our ack reader so it ends: a dead writer cannot close the channel itself.
      new ChannelWriter(acks).close();
      const error = new WorkerExitedError(`log writer for ${options.logDir} exited (code ${code})`, { cause: this.#exitError });
      for (const pending of this.#replies.values()) pending.reject(error);
      this.#replies.clear();
      this.#exitError ??= error; // later commands fail at once instead of waiting out their timeout
      for (const listener of this.#exitListeners) listener(error);
      resolve(code);
    }));
    void this.#readAcks(new ChannelReader(acks));
  }

  /** Hands one offset-assigned batch to the writer. Never blocks; refuses when its backlog is full. */
  append(partitionId: number, batch: Uint8Array): void {
    this.#head[LogWriterFrame.OP_OFFSET] = LogWriterOp.APPEND;
    this.#headView.setUint32(LogWriterFrame.ID_OFFSET, partitionId, true);
    if (!this.#appends.write(this.#head, batch)) throw new MailboxFullError('log writer backlog full; append refused');
  }

  /**
   * Hands one batch to the writer if the channel has room for it now; never waits and never
   * buffers it. With appendAsync for when it says no: a bulk appender's fast path.
   */
  tryAppend(partitionId: number, batch: Uint8Array): boolean {
    this.#head[LogWriterFrame.OP_OFFSET] = LogWriterOp.APPEND;
    this.#headView.setUint32(LogWriterFrame.ID_OFFSET, partitionId, true);
    return this.#appends.tryWrite(this.#head, batch);
  }

  /**
   * Hands one batch to the writer, waiting for room in the channel rather than buffering it:
   * for bulk appends. Once the channel is full it waits until half of it is free, so the writer
   * wakes this thread once per half a channel, not once per step. `batch` may be reused once
   * this resolves.
   */
  async appendAsync(partitionId: number, batch: Uint8Array): Promise<void> {
    const head = new Uint8Array(LogWriterFrame.APPEND_HEADER_BYTES);
    head[LogWriterFrame.OP_OFFSET] = LogWriterOp.APPEND;
    new DataView(head.buffer).setUint32(LogWriterFrame.ID_OFFSET, partitionId, true);
    await this.#appends.writeAsync(head, batch, this.#resumeBytes);
  }

  async open(command: Omit<Extract<LogWriterCommand, { type: 'open' }>, 'type'>): Promise<OpenResult> {
    const result = (await this.command({ type: 'open', ...command })) as OpenResult;
    this.#progress.set(command.partitionId, { writtenEndOffset: result.logEndOffset, durableEndOffset: result.logEndOffset });
    return result;
  }

  /** Sends a command in order with the appends before it; resolves with the writer's answer. */
  async command(command: LogWriterCommand): Promise<unknown> {
    if (this.#exitError !== undefined) throw new WorkerExitedError('log writer has exited', { cause: this.#exitError });
    const requestId = this.#nextRequestId++;
    const head = new Uint8Array(LogWriterFrame.CONTROL_HEADER_BYTES);
    head[LogWriterFrame.OP_OFFSET] = LogWriterOp.CONTROL;
    new DataView(head.buffer).setUint32(LogWriterFrame.ID_OFFSET, requestId, true);
    const answer = new Promise<unknown>((resolve, reject) => this.#replies.set(requestId, { resolve, reject }));
    if (!this.#appends.write(head, textEncoder.encode(JSON.stringify(command)))) {
      this.#replies.delete(requestId);
      throw new MailboxFullError('log writer backlog full; command refused');
    }
    try {
      return await withTimeout(answer, this.#commandTimeoutMs, 'ERR_LOG_WRITER_TIMEOUT', `log writer did not answer '${command.type}'`);
    } finally {
      this.#replies.delete(requestId);
    }
  }

  /**
   * Whole batches from the one holding `offset`, up to maxBytes (at most MAX_READ_BYTES), but at
   * least one batch; empty when the log holds nothing at `offset`.
   */
  async read(partitionId: number, offset: number, maxBytes: number): Promise<Uint8Array> {
    return (await this.command({ type: 'read', partitionId, offset, maxBytes: Math.min(maxBytes, MAX_READ_BYTES) })) as Uint8Array;
  }

  async retention(nowMs: number): Promise<RetentionResult> {
    return (await this.command({ type: 'retention', nowMs })) as RetentionResult;
  }

  async offsets(partitionId: number, timestamp: number): Promise<OffsetsResult> {
    return (await this.command({ type: 'offsets', partitionId, timestamp })) as OffsetsResult;
  }

  progress(partitionId: number): PartitionProgress | undefined {
    return this.#progress.get(partitionId);
  }

  /** Calls `listener` whenever a partition's written or durable end offset moves. */
  onProgress(listener: (partitionId: number, progress: PartitionProgress) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls `listener` when the worker exits: appends not yet reported written never will be. */
  onExit(listener: (error: WorkerExitedError) => void): () => void {
    this.#exitListeners.add(listener);
    return () => this.#exitListeners.delete(listener);
  }

  /** Clean shutdown: the writer flushes, checkpoints and marks the directory clean; then it exits. */
  async close(): Promise<void> {
    try {
      await this.command({ type: 'close' });
      this.#appendsWriter.close();
      await withTimeout(this.#exited, this.#commandTimeoutMs, 'ERR_LOG_WRITER_TIMEOUT', 'log writer did not exit after close');
    } finally {
      await this.#worker.terminate();
    }
  }

  /** Ends the worker at once, as a crash would (for tests of recovery). */
  async kill(): Promise<void> {
    await this.#worker.terminate();
  }

  async #readAcks(reader: ChannelReader): Promise<void> {
    const onFrame = (bytes: Uint8Array, offset: number, length: number): void => {
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
      const op = bytes[offset + LogWriterFrame.OP_OFFSET];
      const id = view.getUint32(LogWriterFrame.ID_OFFSET, true);
      if (op === LogWriterOp.PROGRESS) {
        const progress = {
          writtenEndOffset: view.getFloat64(LogWriterFrame.PROGRESS_WRITTEN_OFFSET, true),
          durableEndOffset: view.getFloat64(LogWriterFrame.PROGRESS_DURABLE_OFFSET, true),
        };
        this.#progress.set(id, progress);
        for (const listener of this.#listeners) listener(id, progress);
      } else if (op === LogWriterOp.DATA) {
        // Copied once, out of the ring (its space is reused once this returns): large reads into
        // recycled memory (recycleRead gives it back once a response carries a copy).
        const start = offset + LogWriterFrame.CONTROL_HEADER_BYTES;
        const pending = this.#replies.get(id);
        if (pending === undefined) return;
        pending.resolve(copyOut(bytes, start, offset + length, readBuffers.lend(length - LogWriterFrame.CONTROL_HEADER_BYTES)));
      } else if (op === LogWriterOp.REPLY) {
        const body = JSON.parse(textDecoder.decode(copyOut(bytes, offset + LogWriterFrame.CONTROL_HEADER_BYTES, offset + length))) as
          { ok: true; result: unknown } | { ok: false; error: WireError };
        const pending = this.#replies.get(id);
        if (pending === undefined) return;
        if (body.ok) pending.resolve(body.result);
        else pending.reject(errorFromWire(body.error));
      } else {
        throw new IllegalStateError(`log writer client: unknown frame op ${op}`);
      }
    };
    await readThroughUntilClosed(reader, onFrame, IDLE_SLICE_MS);
  }
}
