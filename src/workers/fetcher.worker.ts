/**
 * Fetcher: the consumer I/O worker behind one Consumer (Kafka's Fetcher and its network client).
 *
 * Start-up data: FetcherWorkerData (actors/consumer-protocol.ts).
 * In:  control port (comlink FetcherControl): setPartitions, seek, pause, close.
 *      Shared state (ConsumerSlot in layout.ts): BYTES_HELD, which the main thread lowers as poll()
 *      finishes with fetched batches, and CREDIT_SEQ, which it bumps then.
 * Out: fetched channel: DATA (whole, checked batches of one partition), RESET (a resolved
 *      earliest/latest position) and ERROR frames (ConsumerFrame in layout.ts), in order.
 *      Connector port (comlink, the main thread's Connector): embedded connections to brokers;
 *      with bootstrap.servers, TCP sockets of its own instead.
 *      Log lines on the log port.
 * Sleeping: waits for broker responses, ring room and credit with Atomics.waitAsync and promises,
 *      so the event loop stays free for the responses.
 */
import { workerData } from 'node:worker_threads';
import { workerConnect } from '../actors/broker-clients.js';
import type { FetcherControl, FetcherWorkerData } from '../actors/consumer-protocol.js';
import { Fetcher, type FetchCredit, type FetcherOutput } from '../actors/fetcher.js';
import type { Connector } from '../actors/sender-protocol.js';
import { ChannelWriter } from '../shared/channel.js';
import { Comlink, nodeEndpoint } from '../shared/comlink.js';
import { ChannelClosedError, errorToWire, TimeoutError } from '../shared/errors.js';
import { ConsumerFrame, ConsumerOp, ConsumerSlot } from '../shared/layout.js';
import { createWorkerLogger } from '../shared/logger.js';

/** Longest single sleep; a closed channel or new credit is noticed at least this often. */
const WAIT_SLICE_MS = 1_000;
const textEncoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

const data = workerData as FetcherWorkerData;
const logger = createWorkerLogger(data.log, data.logLevel, { actor: 'fetcher', clientId: data.clientId });
const connector = Comlink.wrap<Connector>(nodeEndpoint(data.connector));
const state = new Int32Array(data.state);
const writer = new ChannelWriter(data.fetched);
let closed = false;

/** Frames go out one at a time, in order; a full ring is waited out (the credit bounds it). */
let writing: Promise<void> = Promise.resolve();
function writeFrame(head: Uint8Array, body: Uint8Array): Promise<void> {
  writing = writing.catch(() => undefined).then(async () => {
    for (;;) {
      if (closed) throw new ChannelClosedError('the consumer is closing');
      try {
        await writer.write2(head, body, WAIT_SLICE_MS);
        return;
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
      }
    }
  });
  return writing;
}

function head(op: number, index: number, epoch: number, bytes: number): { head: Uint8Array; view: DataView } {
  const frame = new Uint8Array(bytes);
  const view = new DataView(frame.buffer);
  view.setUint8(ConsumerFrame.OP_OFFSET, op);
  view.setUint32(ConsumerFrame.PARTITION_OFFSET, index, true);
  view.setUint32(ConsumerFrame.EPOCH_OFFSET, epoch, true);
  return { head: frame, view };
}

const output: FetcherOutput = {
  data(index, epoch, highWatermark, batches) {
    const frame = head(ConsumerOp.DATA, index, epoch, ConsumerFrame.DATA_HEADER_BYTES);
    frame.view.setFloat64(ConsumerFrame.DATA_HIGH_WATERMARK_OFFSET, highWatermark, true);
    return writeFrame(frame.head, batches);
  },
  reset(index, epoch, offset) {
    const frame = head(ConsumerOp.RESET, index, epoch, ConsumerFrame.RESET_BYTES);
    frame.view.setFloat64(ConsumerFrame.RESET_OFFSET_OFFSET, offset, true);
    return writeFrame(frame.head, EMPTY);
  },
  error(index, epoch, error) {
    const frame = head(ConsumerOp.ERROR, index, epoch, ConsumerFrame.HEADER_BYTES);
    return writeFrame(frame.head, textEncoder.encode(JSON.stringify(errorToWire(error))));
  },
};

const credit: FetchCredit = {
  held: () => Atomics.load(state, ConsumerSlot.BYTES_HELD),
  add: (bytes) => { Atomics.add(state, ConsumerSlot.BYTES_HELD, bytes); },
  async released() {
    // The sleeper's half of the doorbell (see layout.ts): flag, re-check, then wait on the sequence.
    const seq = Atomics.load(state, ConsumerSlot.CREDIT_SEQ);
    Atomics.store(state, ConsumerSlot.FETCHER_WAITING, 1);
    const held = Atomics.load(state, ConsumerSlot.BYTES_HELD);
    if (held > 0 && !closed) {
      const result = Atomics.waitAsync(state, ConsumerSlot.CREDIT_SEQ, seq, WAIT_SLICE_MS);
      if (result.async) {
        const keepAlive = setTimeout(() => undefined, WAIT_SLICE_MS);
        await result.value;
        clearTimeout(keepAlive);
      }
    }
    Atomics.store(state, ConsumerSlot.FETCHER_WAITING, 0);
  },
};

const connect = workerConnect({ bootstrapServers: data.bootstrapServers, connector, clientId: data.clientId, requestTimeoutMs: data.options.requestTimeoutMs, socket: data.options, logger });
const fetcher = new Fetcher(data.options, output, credit, connect, logger);

const control: FetcherControl = {
  setPartitions: (partitions) => fetcher.setPartitions(partitions),
  seek: (index, epoch, offset) => fetcher.seek(index, epoch, offset),
  pause: (indices, paused) => fetcher.pause(indices, paused),
  close() {
    closed = true;
    fetcher.close();
    writer.close();
    connector[Comlink.releaseProxy]();
  },
};
Comlink.expose(control, nodeEndpoint(data.control));
