/**
 * FetcherLink: the main thread's end of a consumer's I/O worker. It starts the worker with the
 * fetched ring and the shared state, moves every frame out of the ring as it arrives (DATA bytes
 * copied once, from where they lie in the ring into recycled chunk buffers, since the ring slot is
 * reused) and hands it to the consumer, passes the consumer's assignment, seeks and pauses on, and takes chunks back — their memory for
 * the next frames, their bytes as fetch.max.bytes credit — as poll() finishes with them.
 * Main thread only.
 */
import type { Remote } from 'comlink';
import { ChannelReader, createChannel } from '../shared/channel.js';
import { ChunkPool } from '../shared/chunk-pool.js';
import { copyOut, pollThrough } from '../shared/ring-read.js';
import { errorFromWire, type WireError } from '../shared/errors.js';
import { ConsumerFrame, ConsumerOp, ConsumerSlot } from '../shared/layout.js';
import type { Logger } from '../shared/logger.js';
import { exposeConnector } from './connector.js';
import type { FetcherControl, FetcherWorkerData } from './consumer-protocol.js';
import { callControl, endControlledWorker, startControlledWorker, type ControlledWorker } from './controlled-worker.js';
import type { ConnectionHandles } from './embedded-connection.js';
import type { FetchedPartition, FetcherOptions } from './fetcher.js';

export interface FetcherEvents {
  /** Whole batches of partition `index` (a copy the consumer owns), fetched at position epoch `epoch`. */
  data(index: number, epoch: number, highWatermark: number, batches: Buffer): void;
  reset(index: number, epoch: number, offset: number): void;
  error(index: number, epoch: number, error: Error): void;
}

export interface FetcherLinkOptions {
  name: string;
  clientId: string;
  fetcher: Omit<FetcherOptions, 'maxChunkBytes'>;
  connect: (nodeId: number | null) => Promise<{ nodeId: number; handles: ConnectionHandles }>;
  /** When not empty, the worker connects over TCP instead of through `connect`. */
  bootstrapServers: string[];
  /** The consumer's shared state (ConsumerSlot). */
  state: SharedArrayBuffer;
  logger: Logger;
  controlTimeoutMs: number;
  events: FetcherEvents;
}

const IDLE_SLICE_MS = 1_000;
const MIN_RING_BYTES = 4 << 20;
const MAX_RING_BYTES = 64 << 20;
/** Recycled chunk memory kept at most (fetch.max.bytes, 50 MiB by default, bounds it first). */
const MAX_POOLED_BYTES = 64 << 20;
const textDecoder = new TextDecoder();

export class FetcherLink {
  readonly #worker: ControlledWorker<FetcherControl>;
  readonly #reader: ChannelReader;
  readonly #state: Int32Array;
  readonly #logger: Logger;
  readonly #controlTimeoutMs: number;
  readonly #reading: Promise<void>;
  readonly #chunks: ChunkPool;
  #closed = false;

  constructor(options: FetcherLinkOptions) {
    // Room for two of the largest partition answers, so one can be read while the next is written.
    const capacityBytes = Math.max(MIN_RING_BYTES, Math.min(MAX_RING_BYTES, 2 * options.fetcher.maxPartitionFetchBytes + 65_536));
    const fetched = createChannel({ capacityBytes });
    const maxChunkBytes = Math.floor(capacityBytes / 2) - ConsumerFrame.DATA_HEADER_BYTES - 64;
    const connector = exposeConnector(options.connect);
    const data: Omit<FetcherWorkerData, 'control' | 'log' | 'logLevel'> = {
      options: { ...options.fetcher, maxChunkBytes }, clientId: options.clientId, fetched, state: options.state,
      bootstrapServers: options.bootstrapServers, connector: connector.port,
    };
    this.#worker = startControlledWorker<FetcherControl>('fetcher', options.name, { ...data }, options.logger, [connector.port]);
    void this.#worker.exited.then(() => connector.close());
    this.#reader = new ChannelReader(fetched);
    // Chunks in use never pass fetch.max.bytes (the credit), so pooling that much adds no peak memory.
    this.#chunks = new ChunkPool(Math.min(options.fetcher.fetchMaxBytes, MAX_POOLED_BYTES) + capacityBytes);
    this.#state = new Int32Array(options.state);
    this.#logger = options.logger;
    this.#controlTimeoutMs = options.controlTimeoutMs;
    this.#reading = this.#read(options.events);
  }

  get worker(): ControlledWorker<FetcherControl>['worker'] {
    return this.#worker.worker;
  }

  /** The error that ended the worker, if one did. */
  lastError(): Error | undefined {
    return this.#worker.lastError();
  }

  /** Resolves with the exit code when the worker thread ends. */
  get exited(): Promise<number> {
    return this.#worker.exited;
  }

  setPartitions(partitions: FetchedPartition[]): void {
    this.#send((c) => c.setPartitions(partitions));
  }

  seek(index: number, epoch: number, offset: number): void {
    this.#send((c) => c.seek(index, epoch, offset));
  }

  pause(indices: number[], paused: boolean): void {
    if (indices.length > 0) this.#send((c) => c.pause(indices, paused));
  }

  /** Takes a chunk back: its memory for reuse, its bytes as fetch.max.bytes credit (waking the worker if it waits). */
  release(chunk: Buffer): void {
    const bytes = chunk.length;
    this.#chunks.put(chunk);
    if (bytes <= 0) return;
    Atomics.sub(this.#state, ConsumerSlot.BYTES_HELD, bytes);
    if (Atomics.load(this.#state, ConsumerSlot.FETCHER_WAITING) === 1) {
      Atomics.add(this.#state, ConsumerSlot.CREDIT_SEQ, 1);
      Atomics.notify(this.#state, ConsumerSlot.CREDIT_SEQ);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await callControl(this.#worker, (c) => c.close(), this.#controlTimeoutMs);
    } catch (error) {
      this.#logger.warn({ err: error }, 'the consumer I/O worker did not close cleanly');
    }
    this.#reader.close();
    await endControlledWorker(this.#worker);
    await this.#reading;
  }

  /** Ends the worker at once, as a crash would. */
  async kill(): Promise<void> {
    this.#closed = true;
    this.#reader.close();
    await endControlledWorker(this.#worker);
  }

  /** Control calls in order; a failure is logged (the worker's exit is reported on its own). */
  #send(call: (control: Remote<FetcherControl>) => unknown): void {
    if (this.#closed) return;
    void callControl(this.#worker, async (c) => { await call(c); }, this.#controlTimeoutMs)
      .catch((error: unknown) => { if (!this.#closed) this.#logger.warn({ err: error }, 'consumer I/O worker control call failed'); });
  }

  async #read(events: FetcherEvents): Promise<void> {
    const onFrame = (bytes: Uint8Array, offset: number, length: number): void => {
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
      const op = view.getUint8(ConsumerFrame.OP_OFFSET);
      const index = view.getUint32(ConsumerFrame.PARTITION_OFFSET, true);
      const epoch = view.getUint32(ConsumerFrame.EPOCH_OFFSET, true);
      if (op === ConsumerOp.DATA) {
        const highWatermark = view.getFloat64(ConsumerFrame.DATA_HIGH_WATERMARK_OFFSET, true);
        // One copy, from the ring straight into recycled memory.
        const chunk = copyOut(bytes, offset + ConsumerFrame.DATA_HEADER_BYTES, offset + length, this.#chunks.take(length - ConsumerFrame.DATA_HEADER_BYTES));
        events.data(index, epoch, highWatermark, chunk);
      } else if (op === ConsumerOp.RESET) {
        events.reset(index, epoch, view.getFloat64(ConsumerFrame.RESET_OFFSET_OFFSET, true));
      } else {
        const wire = JSON.parse(textDecoder.decode(copyOut(bytes, offset + ConsumerFrame.HEADER_BYTES, offset + length))) as WireError;
        events.error(index, epoch, errorFromWire(wire));
      }
    };
    for (;;) {
      try {
        if (pollThrough(this.#reader, onFrame) > 0) continue;
      } catch (error) {
        this.#logger.error({ err: error }, 'a fetched frame could not be handled');
        continue;
      }
      const result = await this.#reader.waitAsync(IDLE_SLICE_MS);
      if ((result === 'closed' && !this.#reader.hasFrames) || this.#closed) return;
    }
  }
}
