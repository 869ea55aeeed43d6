/**
 * SenderLink: the main thread's end of a producer's sender worker. It starts the worker with its
 * two rings, writes closed batches into the batches ring (a topic's name once, then its index),
 * reads DONE and FAILED frames from the completions ring and hands them to the producer, and
 * answers the worker's requests for broker connections. Main thread only.
 */
import { MessageChannel } from 'node:worker_threads';
import { ChannelReader, ChannelWriter, createChannel } from '../shared/channel.js';
import { Comlink, nodeEndpoint } from '../shared/comlink.js';
import { errorFromWire, WorkerExitedError, type WireError } from '../shared/errors.js';
import { ProducerFrame, ProducerOp } from '../shared/layout.js';
import type { Logger } from '../shared/logger.js';
import { callControl, endControlledWorker, startControlledWorker, type ControlledWorker } from './controlled-worker.js';
import type { ConnectionHandles } from './embedded-connection.js';
import type { SenderOptions, TopicMetadata } from './sender.js';
import type { Connector, SenderControl, SenderWorkerData } from './sender-protocol.js';

export interface SenderLinkOptions {
  name: string;
  clientId: string;
  sender: SenderOptions;
  /** Opens a connection to broker `nodeId` (null: any broker). */
  connect: (nodeId: number | null) => Promise<{ nodeId: number; handles: ConnectionHandles }>;
  /** host:port of brokers: when given, the worker connects over TCP and `connect` is not used. */
  bootstrapServers?: string[];
  logger: Logger;
  controlTimeoutMs: number;
  batchesCapacityBytes: number;
  onDone: (batchId: number, baseOffset: number, logAppendTimeMs: number) => void;
  onFailed: (batchId: number, error: Error) => void;
  /** The worker ended without close() (a crash): nothing more will be answered. */
  onExit: (error: Error) => void;
}

const COMPLETIONS_CAPACITY_BYTES = 1 << 20;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export class SenderLink {
  readonly #worker: ControlledWorker<SenderControl>;
  readonly #batches: ChannelWriter;
  readonly #completions: ChannelReader;
  readonly #controlTimeoutMs: number;
  readonly #topicIndex = new Map<string, number>();
  readonly #head = new Uint8Array(ProducerFrame.BATCH_HEADER_BYTES);
  readonly #headView = new DataView(this.#head.buffer);
  readonly #reading: Promise<void>;
  #ending = false;

  constructor(options: SenderLinkOptions) {
    const batches = createChannel({ capacityBytes: options.batchesCapacityBytes });
    const completions = createChannel({ capacityBytes: COMPLETIONS_CAPACITY_BYTES });
    const connectorChannel = new MessageChannel();
    const connector: Connector = { connect: options.connect };
    Comlink.expose(connector, nodeEndpoint(connectorChannel.port1));
    const data: Omit<SenderWorkerData, 'control' | 'log' | 'logLevel'> = {
      options: options.sender, clientId: options.clientId, batches, completions, connector: connectorChannel.port2,
      bootstrapServers: options.bootstrapServers ?? [],
    };
    this.#worker = startControlledWorker<SenderControl>('sender', options.name, { ...data }, options.logger, [connectorChannel.port2]);
    void this.#worker.exited.then((code) => {
      connectorChannel.port1.close();
      if (!this.#ending) options.onExit(new WorkerExitedError(`sender worker ${options.name} exited (code ${code})`, { cause: this.#worker.lastError() }));
    });
    this.#controlTimeoutMs = options.controlTimeoutMs;
    this.#batches = new ChannelWriter(batches);
    this.#completions = new ChannelReader(completions);
    this.#reading = this.#readCompletions(options.onDone, options.onFailed);
  }

  /** `timeoutMs`: how long the worker may take (it retries for up to max.block.ms). */
  start(timeoutMs: number): Promise<{ producerId: number; producerEpoch: number }> {
    return callControl(this.#worker, (c) => c.start(), timeoutMs);
  }

  metadata(topics: string[], timeoutMs: number): Promise<TopicMetadata[]> {
    return callControl(this.#worker, (c) => c.metadata(topics), timeoutMs);
  }

  /** Largest batch the ring can carry. */
  get maxBatchBytes(): number {
    return this.#batches.maxPayloadBytes - ProducerFrame.BATCH_HEADER_BYTES;
  }

  /** Writes a batch frame if the ring has room now; false when it is full. */
  tryWriteBatch(batchId: number, topic: string, partition: number, deadlineMs: number, bytes: Uint8Array): boolean {
    const topicIndex = this.#topic(topic);
    if (topicIndex === -1) return false;
    this.#batchHead(batchId, topicIndex, partition, deadlineMs);
    return this.#batches.tryWrite2(this.#head, bytes);
  }

  /** Writes a batch frame, waiting (asynchronously) up to timeoutMs for room. */
  async writeBatch(batchId: number, topic: string, partition: number, deadlineMs: number, bytes: Uint8Array, timeoutMs: number): Promise<void> {
    let topicIndex = this.#topic(topic);
    if (topicIndex === -1) {
      await this.#batches.write2(this.#topicHead(this.#topicIndex.size), textEncoder.encode(topic), timeoutMs);
      this.#topicIndex.set(topic, (topicIndex = this.#topicIndex.size));
    }
    this.#batchHead(batchId, topicIndex, partition, deadlineMs);
    await this.#batches.write2(this.#head, bytes, timeoutMs);
  }

  /** Publishes frames written in one go with one wake-up of the sender. */
  cork(): void {
    this.#batches.cork();
  }

  uncork(): void {
    this.#batches.uncork();
  }

  /** No more batches; waits until the sender answered every batch, then ends the worker. */
  async close(timeoutMs: number): Promise<void> {
    this.#ending = true;
    this.#batches.close();
    try {
      await callControl(this.#worker, (c) => c.close(timeoutMs), timeoutMs + this.#controlTimeoutMs);
      await this.#reading;
    } finally {
      await this.kill();
    }
  }

  /** Ends the worker at once: what it had not answered stays unanswered. */
  async kill(): Promise<void> {
    this.#ending = true;
    this.#batches.close();
    this.#completions.close();
    await endControlledWorker(this.#worker);
  }

  /** The topic's index, writing its TOPIC frame first if it is new; -1 when the ring is full. */
  #topic(topic: string): number {
    const known = this.#topicIndex.get(topic);
    if (known !== undefined) return known;
    const index = this.#topicIndex.size;
    if (!this.#batches.tryWrite2(this.#topicHead(index), textEncoder.encode(topic))) return -1;
    this.#topicIndex.set(topic, index);
    return index;
  }

  #topicHead(index: number): Uint8Array {
    const head = new Uint8Array(ProducerFrame.TOPIC_HEADER_BYTES);
    const view = new DataView(head.buffer);
    view.setUint8(ProducerFrame.OP_OFFSET, ProducerOp.TOPIC);
    view.setUint32(ProducerFrame.ID_OFFSET, index, true);
    return head;
  }

  #batchHead(batchId: number, topicIndex: number, partition: number, deadlineMs: number): void {
    const view = this.#headView;
    view.setUint8(ProducerFrame.OP_OFFSET, ProducerOp.BATCH);
    view.setUint32(ProducerFrame.ID_OFFSET, batchId, true);
    view.setUint32(ProducerFrame.BATCH_TOPIC_OFFSET, topicIndex, true);
    view.setUint32(ProducerFrame.BATCH_PARTITION_OFFSET, partition, true);
    view.setFloat64(ProducerFrame.BATCH_DEADLINE_OFFSET, deadlineMs, true);
  }

  async #readCompletions(onDone: SenderLinkOptions['onDone'], onFailed: SenderLinkOptions['onFailed']): Promise<void> {
    const onFrame = (bytes: Uint8Array, offset: number, length: number): void => {
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
      const batchId = view.getUint32(ProducerFrame.ID_OFFSET, true);
      if (view.getUint8(ProducerFrame.OP_OFFSET) === ProducerOp.DONE) {
        onDone(batchId, view.getFloat64(ProducerFrame.DONE_BASE_OFFSET_OFFSET, true), view.getFloat64(ProducerFrame.DONE_LOG_APPEND_TIME_OFFSET, true));
      } else {
        const wire = JSON.parse(textDecoder.decode(bytes.subarray(offset + ProducerFrame.FAILED_HEADER_BYTES, offset + length))) as WireError;
        onFailed(batchId, errorFromWire(wire));
      }
    };
    await this.#completions.readUntilClosed(onFrame);
  }
}
