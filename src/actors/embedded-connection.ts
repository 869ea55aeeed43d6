/**
 * The embedded transport: a client's connection to a broker worker as a pair of ring channels
 * carrying exactly the frames TCP carries: a Kafka request or response, int32 size prefix
 * included, per channel frame. Both ends are here:
 *
 *   EmbeddedConnection     the client's end: sends requests, matches responses by correlation id
 *                          (the int32 after the size prefix in both headers)
 *   serveConnection        the broker's end: reads requests, hands each to the handler, and writes
 *                          the responses in request order, as Kafka does per connection, however
 *                          the handlers' finishing order falls
 *
 * Each end lives on one event-loop thread and sleeps in Atomics.waitAsync when idle.
 */
import { ChannelReader, ChannelWriter, createChannel, type ChannelHandle } from '../shared/channel.js';
import { ChunkPool } from '../shared/chunk-pool.js';
import { ChannelClosedError } from '../shared/errors.js';
import { OrderedWriter } from '../shared/ordered-writer.js';
import { copyOut, pollThrough, readThroughUntilClosed } from '../shared/ring-read.js';
import { PendingRequests, responseCorrelationIdOf } from './pending-requests.js';

export interface ConnectionHandles {
  /** client -> broker */
  requests: ChannelHandle;
  /** broker -> client */
  responses: ChannelHandle;
}

const IDLE_SLICE_MS = 1_000;
const DEFAULT_CAPACITY_BYTES = 4 << 20;
const EMPTY = new Uint8Array(0);

/** Response frame memory kept for reuse per thread: a few of the largest Fetch answers. */
const RESPONSE_POOL_BYTES = 8 << 20;
/** Memory for large response frames (Fetch answers), given back by recycleResponse. */
const responseMemory = new ChunkPool(RESPONSE_POOL_BYTES);

/**
 * Gives back the memory of the response frame that `view` (any view into it) lies in, for a later
 * response: only once nothing reads that response or its views any more (the fetcher, after
 * handing a Fetch answer's batches on). Memory that did not come from here is left alone.
 */
export function recycleResponse(view: Uint8Array): void {
  responseMemory.giveBack(view);
}

export function createConnectionHandles(capacityBytes = DEFAULT_CAPACITY_BYTES): ConnectionHandles {
  return { requests: createChannel({ capacityBytes }), responses: createChannel({ capacityBytes }) };
}

export class EmbeddedConnection {
  readonly #requests: OrderedWriter;
  readonly #requestWriter: ChannelWriter;
  readonly #pending = new PendingRequests('the broker');
  #closed = false;

  constructor(handles: ConnectionHandles, options: { maxBacklogBytes?: number } = {}) {
    this.#requestWriter = new ChannelWriter(handles.requests);
    this.#requests = new OrderedWriter(this.#requestWriter, {
      maxBacklogBytes: options.maxBacklogBytes,
      flushTimeoutMs: 30_000,
      onFlushError: (error) => this.#pending.failAll(error instanceof Error ? error : new Error(String(error))),
    });
    void this.#readResponses(new ChannelReader(handles.responses));
  }

  /**
   * Sends one request frame (size prefix included) and resolves with its response frame (size
   * prefix included). Rejects with TimeoutError (ERR_REQUEST_TIMEOUT) after timeoutMs.
   */
  request(frame: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new ChannelClosedError('connection is closed'));
    return this.#pending.add(frame, timeoutMs, () => {
      if (!this.#requests.write(frame, EMPTY)) throw new ChannelClosedError('connection backlog is full');
    });
  }

  /** Sends a request that gets no response (Produce with acks=0). */
  send(frame: Uint8Array): void {
    if (this.#closed) throw new ChannelClosedError('connection is closed');
    if (!this.#requests.write(frame, EMPTY)) throw new ChannelClosedError('connection backlog is full');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#requestWriter.close();
    this.#pending.failAll(new ChannelClosedError('connection closed'));
  }

  async #readResponses(reader: ChannelReader): Promise<void> {
    const onFrame = (bytes: Uint8Array, offset: number, length: number): void => {
      // A request that timed out already gets nothing; the ring slot is copied only for a waiting one.
      this.#pending.settle(responseCorrelationIdOf(bytes, offset))?.(copyOut(bytes, offset, offset + length, responseMemory.lend(length)));
    };
    for (;;) {
      if (pollThrough(reader, onFrame) > 0) continue;
      if ((await reader.waitAsync(IDLE_SLICE_MS)) === 'closed' || (this.#closed && this.#pending.size === 0)) {
        this.#pending.failAll(new ChannelClosedError('the broker closed the connection'));
        return;
      }
    }
  }
}

/** The broker's answer to one request frame: a response frame, or null when none is owed. */
export type FrameHandler = (request: Uint8Array) => Promise<Uint8Array | null>;

/**
 * Serves one connection until the client closes it: every request goes to `handle` at once
 * (pipelined), and responses leave in request order. Resolves when the connection is done.
 * `written`, if given, gets each response frame back once the ring (or the writer's backlog)
 * holds a copy of it, so its memory can serve a later response.
 */
export async function serveConnection(
  handles: ConnectionHandles, handle: FrameHandler, onError: (error: unknown) => void, written?: (frame: Uint8Array) => void,
): Promise<void> {
  const reader = new ChannelReader(handles.requests);
  const writer = new ChannelWriter(handles.responses);
  const responses = new OrderedWriter(writer, { flushTimeoutMs: 30_000, onFlushError: onError });
  // Answers in request order: a slot per request, sent once it and every slot before it settled.
  const slots: { frame: Uint8Array | null | undefined }[] = [];
  let clientGone = false;
  const flush = (): void => {
    while (!clientGone && slots.length > 0 && slots[0]!.frame !== undefined) {
      const frame = slots.shift()!.frame;
      if (frame === null) continue;
      if (!responses.write(frame!, EMPTY)) onError(new ChannelClosedError('response backlog full; the client is not reading'));
      written?.(frame!);
    }
  };
  const onFrame = (bytes: Uint8Array, offset: number, length: number): void => {
    const slot: { frame: Uint8Array | null | undefined } = { frame: undefined };
    slots.push(slot);
    handle(copyOut(bytes, offset, offset + length)).then(
      (frame) => { slot.frame = frame; flush(); },
      (error: unknown) => { slot.frame = null; flush(); onError(error); },
    );
  };
  await readThroughUntilClosed(reader, onFrame, IDLE_SLICE_MS);
  // The client hung up: answers still being worked out (a long-polling fetch) go nowhere.
  clientGone = true;
  writer.close();
}
