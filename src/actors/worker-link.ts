/**
 * WorkerLink: the main thread's end of one actor-host worker. It owns the Worker, the channel
 * pair (inbox: asks and tells out; outbox: replies in), the pending asks, and the comlink control
 * proxy. It remembers which actors run on the worker, so a restart (start() again) brings them
 * all back under their old ids. Lives on the main thread only.
 */
import { ChannelReader, ChannelWriter, createChannel, type ChannelHandle } from '../shared/channel.js';
import type { Remote } from 'comlink';
import {
  errorFromWire, IllegalStateError, MailboxFullError, TimeoutError, WorkerExitedError, type WireError,
} from '../shared/errors.js';
import { ActorFrame, ActorOp } from '../shared/layout.js';
import type { Logger } from '../shared/logger.js';
import { withTimeout } from '../shared/deadline.js';
import { OrderedWriter } from '../shared/ordered-writer.js';
import { callControl, endControlledWorker, startControlledWorker, type ControlledWorker } from './controlled-worker.js';
import { readU32, writeActorHeader, type HostControl, type HostWorkerData, type SpawnRequest, type WorkerStatus } from './host-protocol.js';
import type { SupervisedChild } from './supervisor.js';

const IDLE_SLICE_MS = 1_000;
const textDecoder = new TextDecoder();

export interface WorkerLinkOptions {
  logger: Logger;
  channelCapacityBytes: number;
  maxBacklogBytes: number;
  maxQueuedMessages: number;
  controlTimeoutMs: number;
}

interface PendingAsk {
  resolve: (body: Uint8Array) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** One incarnation of the worker: replaced wholesale on restart. */
interface Incarnation {
  host: ControlledWorker<HostControl>;
  inbox: OrderedWriter;
  inboxWriter: ChannelWriter;
  outboxHandle: ChannelHandle;
}

type LinkState = 'idle' | 'starting' | 'running' | 'crashed' | 'stopping' | 'stopped';

export class WorkerLink implements SupervisedChild {
  readonly name: string;
  readonly #options: WorkerLinkOptions;
  readonly #actors = new Map<number, SpawnRequest>();
  readonly #pending = new Map<number, PendingAsk>();
  readonly #head = new Uint8Array(ActorFrame.HEADER_BYTES);
  #state: LinkState = 'idle';
  #current: Incarnation | undefined;
  #nextCorrelationId = 1;
  #onCrash: (error: Error) => void = () => undefined;

  constructor(name: string, options: WorkerLinkOptions) {
    this.name = name;
    this.#options = options;
  }

  get state(): LinkState {
    return this.#state;
  }

  setCrashHandler(handler: (error: Error) => void): void {
    this.#onCrash = handler;
  }

  /** Starts a fresh worker and spawns every actor registered on this link. */
  async start(): Promise<void> {
    if (this.#state === 'starting' || this.#state === 'running') throw new IllegalStateError(`worker ${this.name} is already ${this.#state}`);
    this.#state = 'starting';
    const incarnation = this.#launch();
    this.#current = incarnation;
    try {
      for (const request of this.#actors.values()) await this.#control(incarnation, (c) => c.spawn(request));
    } catch (error) {
      await endControlledWorker(incarnation.host);
      throw error;
    }
    if (this.#current === incarnation && this.#state === 'starting') this.#state = 'running';
  }

  /** Spawns an actor on the worker and remembers it for restarts. */
  async spawnActor(request: SpawnRequest): Promise<void> {
    const incarnation = this.#running();
    await this.#control(incarnation, (c) => c.spawn(request));
    this.#actors.set(request.actorId, request);
  }

  tell(actorId: number, body: Uint8Array): void {
    const incarnation = this.#running();
    writeActorHeader(this.#head, ActorOp.TELL, actorId, 0);
    if (!incarnation.inbox.write(this.#head, body)) {
      throw new MailboxFullError(`worker ${this.name}: mailbox full (${incarnation.inbox.backlogBytes} bytes waiting), tell refused`);
    }
  }

  ask(actorId: number, body: Uint8Array, timeoutMs: number, describe: () => string): Promise<Uint8Array> {
    let incarnation: Incarnation;
    try {
      incarnation = this.#running();
    } catch (error) {
      return Promise.reject(error);
    }
    const correlationId = this.#nextCorrelationId;
    this.#nextCorrelationId = this.#nextCorrelationId >= 0xffff_ffff ? 1 : this.#nextCorrelationId + 1;
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(correlationId);
        reject(new TimeoutError('ERR_ASK_TIMEOUT', `ask to ${describe()} got no answer`, timeoutMs));
      }, timeoutMs);
      this.#pending.set(correlationId, { resolve, reject, timer });
      writeActorHeader(this.#head, ActorOp.ASK, actorId, correlationId);
      let accepted: boolean;
      try {
        accepted = incarnation.inbox.write(this.#head, body);
      } catch (error) {
        accepted = false;
        this.#settle(correlationId)?.reject(error as Error);
        return;
      }
      if (!accepted) {
        this.#settle(correlationId)?.reject(new MailboxFullError(`worker ${this.name}: mailbox full, ask refused`));
      }
    });
  }

  async status(): Promise<WorkerStatus> {
    return this.#control(this.#running(), (c) => c.status());
  }

  /** Graceful stop: refuse new messages, let the worker finish what it has, then end it. */
  async stop(timeoutMs = this.#options.controlTimeoutMs): Promise<void> {
    const incarnation = this.#current;
    if (incarnation === undefined || this.#state === 'stopped' || this.#state === 'stopping') {
      this.#state = 'stopped';
      return;
    }
    const wasCrashed = this.#state === 'crashed';
    this.#state = 'stopping';
    const deadlineMs = performance.now() + timeoutMs;
    try {
      if (!wasCrashed) {
        await withTimeout(incarnation.inbox.flushed(), timeoutMs, 'ERR_STOP_TIMEOUT', `worker ${this.name}: queued messages not taken`);
        incarnation.inboxWriter.close();
        await this.#control(incarnation, (c) => c.shutdown(), deadlineMs - performance.now());
      }
    } catch (error) {
      this.#options.logger.warn({ worker: this.name, err: error }, 'worker did not stop cleanly; terminating it');
    } finally {
      await endControlledWorker(incarnation.host);
      this.#failPending(new WorkerExitedError(`worker ${this.name} stopped`));
      this.#state = 'stopped';
    }
  }

  #running(): Incarnation {
    if (this.#state !== 'running' && this.#state !== 'starting') {
      throw new WorkerExitedError(`worker ${this.name} is ${this.#state}, not running`);
    }
    return this.#current!;
  }

  #launch(): Incarnation {
    const inboxHandle = createChannel({ capacityBytes: this.#options.channelCapacityBytes });
    const outboxHandle = createChannel({ capacityBytes: this.#options.channelCapacityBytes });
    const data: Omit<HostWorkerData, 'control' | 'log' | 'logLevel'> = {
      name: this.name,
      inbox: inboxHandle,
      outbox: outboxHandle,
      maxQueuedMessages: this.#options.maxQueuedMessages,
    };
    const host = startControlledWorker<HostControl>('actor-host', this.name, { ...data }, this.#options.logger);
    const inboxWriter = new ChannelWriter(inboxHandle);
    const incarnation: Incarnation = {
      host,
      inboxWriter,
      inbox: new OrderedWriter(inboxWriter, {
        maxBacklogBytes: this.#options.maxBacklogBytes,
        flushTimeoutMs: this.#options.controlTimeoutMs,
        onFlushError: (error) => this.#options.logger.error({ worker: this.name, err: error }, 'could not deliver queued messages'),
      }),
      outboxHandle,
    };
    void host.exited.then((code) => this.#onExit(incarnation, code));
    void this.#readReplies(incarnation, new ChannelReader(outboxHandle));
    return incarnation;
  }

  #onExit(incarnation: Incarnation, code: number): void {
    if (this.#current !== incarnation) return;
    // Wake our reply loop so it ends: the worker can no longer close its outbox itself.
    new ChannelWriter(incarnation.outboxHandle).close();
    incarnation.inboxWriter.close();
    incarnation.inbox.discard();
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    const cause = incarnation.host.lastError() ?? new Error(`worker exited with code ${code}`);
    this.#state = 'crashed';
    this.#failPending(new WorkerExitedError(`worker ${this.name} exited before answering: ${cause.message}`, { cause }));
    this.#onCrash(cause);
  }

  async #readReplies(incarnation: Incarnation, reader: ChannelReader): Promise<void> {
    const onReply = (bytes: Uint8Array, offset: number, length: number): void => {
      const op = bytes[offset + ActorFrame.OP_OFFSET];
      const correlationId = readU32(bytes, offset + ActorFrame.CORRELATION_ID_OFFSET);
      const pending = this.#settle(correlationId);
      if (pending === undefined) return; // timed out already
      const body = bytes.slice(offset + ActorFrame.HEADER_BYTES, offset + length);
      if (op === ActorOp.REPLY) pending.resolve(body);
      else pending.reject(errorFromWire(JSON.parse(textDecoder.decode(body)) as WireError));
    };
    for (;;) {
      if (reader.poll(onReply) > 0) continue;
      const result = await reader.waitAsync(IDLE_SLICE_MS);
      if (result === 'closed' || (this.#current !== incarnation && !reader.hasFrames)) return;
    }
  }

  #settle(correlationId: number): PendingAsk | undefined {
    const pending = this.#pending.get(correlationId);
    if (pending === undefined) return undefined;
    this.#pending.delete(correlationId);
    clearTimeout(pending.timer);
    return pending;
  }

  #failPending(error: Error): void {
    for (const correlationId of [...this.#pending.keys()]) this.#settle(correlationId)?.reject(error);
  }

  /** A control-plane call, bounded by a timeout and by the worker's exit. */
  #control<T>(incarnation: Incarnation, call: (control: Remote<HostControl>) => Promise<T>, timeoutMs = this.#options.controlTimeoutMs): Promise<T> {
    return callControl(incarnation.host, call, timeoutMs);
  }
}
