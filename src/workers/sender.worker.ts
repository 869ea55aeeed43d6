/**
 * Sender: the worker thread behind one Producer, its I/O loop (Kafka's Sender thread).
 *
 * Start-up data: SenderWorkerData (actors/sender-protocol.ts).
 * In:  batches channel: TOPIC frames (a topic's index and name) and BATCH frames (a batch id, topic
 *      index, partition, delivery deadline and one closed RecordBatch), in order per partition.
 *      Control port (comlink SenderControl): start, metadata, close.
 * Out: completions channel: DONE (base offset, log-append time) or FAILED (a WireError) once per
 *      batch. Connector port (comlink, the main thread's Connector): embedded connections to
 *      brokers; with bootstrap servers, TCP connections opened here instead (tcp-connector.ts).
 *      Log lines on the log port.
 * Compression: with compression.type set, batches go through a piscina pool (compression.worker)
 *      before they are sent, so the codec never stalls this loop.
 * Sleeping: the batches reader sleeps in Atomics.waitAsync, so the event loop stays free for the
 *      brokers' responses and the retry timers.
 */
import { workerData } from 'node:worker_threads';
import { workerConnect } from '../actors/broker-clients.js';
import { Sender } from '../actors/sender.js';
import type { Connector, SenderControl, SenderWorkerData } from '../actors/sender-protocol.js';
import { ChannelReader, ChannelWriter } from '../shared/channel.js';
import { Comlink, nodeEndpoint } from '../shared/comlink.js';
import { CompressionPool } from '../shared/compression-pool.js';
import { errorToWire } from '../shared/errors.js';
import { ProducerFrame, ProducerOp } from '../shared/layout.js';
import { createWorkerLogger } from '../shared/logger.js';
import { OrderedWriter } from '../shared/ordered-writer.js';
import { Compression } from '../shared/record-batch/layout.js';

const COMPLETION_FLUSH_TIMEOUT_MS = 30_000;
const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

const data = workerData as SenderWorkerData;
const logger = createWorkerLogger(data.log, data.logLevel, { actor: 'sender', clientId: data.clientId });
const connector = Comlink.wrap<Connector>(nodeEndpoint(data.connector));

const completionsWriter = new ChannelWriter(data.completions);
const completions = new OrderedWriter(completionsWriter, {
  // Outcomes are never dropped: the backlog may hold every batch buffer.memory allows.
  maxBacklogBytes: Number.MAX_SAFE_INTEGER,
  flushTimeoutMs: COMPLETION_FLUSH_TIMEOUT_MS,
  onFlushError: (error) => logger.error({ err: error }, 'the producer stopped reading batch outcomes'),
});
const doneHead = new Uint8Array(ProducerFrame.DONE_BYTES);
const doneView = new DataView(doneHead.buffer);
const EMPTY = new Uint8Array(0);

// compression.type: batches arrive uncompressed and are compressed in a piscina pool, off this loop.
const compression = Compression[data.options.compressionType];
const pool = compression === Compression.none ? null : new CompressionPool({ logger });

const sender = new Sender(
  data.options,
  {
    done(batchId, baseOffset, logAppendTimeMs) {
      doneView.setUint8(ProducerFrame.OP_OFFSET, ProducerOp.DONE);
      doneView.setUint32(ProducerFrame.ID_OFFSET, batchId, true);
      doneView.setFloat64(ProducerFrame.DONE_BASE_OFFSET_OFFSET, baseOffset, true);
      doneView.setFloat64(ProducerFrame.DONE_LOG_APPEND_TIME_OFFSET, logAppendTimeMs, true);
      completions.write(doneHead, EMPTY);
    },
    failed(batchId, error) {
      const head = new Uint8Array(ProducerFrame.FAILED_HEADER_BYTES);
      const view = new DataView(head.buffer);
      view.setUint8(ProducerFrame.OP_OFFSET, ProducerOp.FAILED);
      view.setUint32(ProducerFrame.ID_OFFSET, batchId, true);
      completions.write(head, textEncoder.encode(JSON.stringify(errorToWire(error))));
    },
  },
  // With bootstrap servers, connections are TCP sockets owned here.
  workerConnect({ bootstrapServers: data.bootstrapServers, connector, clientId: data.clientId, requestTimeoutMs: data.options.requestTimeoutMs, socket: data.options, logger }),
  pool === null ? null : (batch) => pool.compressBatch(batch, compression),
  logger,
);

const topics: string[] = [];
const reader = new ChannelReader(data.batches);
const onFrame = (bytes: Uint8Array, offset: number, length: number): void => {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
  const op = view.getUint8(ProducerFrame.OP_OFFSET);
  const id = view.getUint32(ProducerFrame.ID_OFFSET, true);
  if (op === ProducerOp.TOPIC) {
    topics[id] = textDecoder.decode(bytes.subarray(offset + ProducerFrame.TOPIC_HEADER_BYTES, offset + length));
    return;
  }
  sender.enqueue({
    id,
    topic: topics[view.getUint32(ProducerFrame.BATCH_TOPIC_OFFSET, true)]!,
    partition: view.getUint32(ProducerFrame.BATCH_PARTITION_OFFSET, true),
    deadlineMs: view.getFloat64(ProducerFrame.BATCH_DEADLINE_OFFSET, true),
    // The ring slot is reused after this call: the sender keeps its own copy until the outcome.
    bytes: Buffer.from(bytes.subarray(offset + ProducerFrame.BATCH_HEADER_BYTES, offset + length)),
    attempts: 0,
    baseSequence: -1,
    epoch: -1,
    retryAtMs: 0,
  });
};

const batchesRead = reader.readUntilClosed(onFrame);

const control: SenderControl = {
  async start() {
    await sender.start();
    return { producerId: sender.producerId, producerEpoch: sender.producerEpoch };
  },
  metadata: (names) => sender.metadata(names),
  async close(timeoutMs) {
    await batchesRead; // the producer closed its end after its last batch
    await sender.idle(timeoutMs);
    await completions.flushed();
    completionsWriter.close();
    sender.close();
    await pool?.close();
    connector[Comlink.releaseProxy]();
  },
};
Comlink.expose(control, nodeEndpoint(data.control));
