/**
 * Actor host: a worker thread that runs the actors an ActorSystem spawned on it.
 *
 * Start-up data: HostWorkerData (actors/host-protocol.ts).
 * In:  inbox channel, actor frames TELL and ASK, read in order and handed to each actor's mailbox
 *      (one message at a time per actor); control port (comlink HostControl): spawn, stopActor,
 *      status, shutdown.
 * Out: outbox channel, REPLY and REPLY_ERROR frames answering ASKs; log port, one pino line per
 *      message.
 * Back-pressure: once maxQueuedMessages wait in mailboxes (plus at most one ring's worth taken in
 *      the same poll), the loop stops reading the inbox until half have been handled, so the ring
 *      fills and the sender is told no.
 * Sleeping: when the inbox is empty the loop sleeps in Atomics.waitAsync, not Atomics.wait,
 *      because actors here may use timers, sockets and promises and comlink needs the event loop.
 * Shutdown: the main thread closes the inbox and calls shutdown(); the loop drains the inbox,
 *      every mailbox finishes, each actor's stop() runs, the outbox is flushed and closed.
 * Crash: an uncaught exception or unhandled rejection ends the worker; the supervisor on the main
 *      thread fails this worker's pending asks and restarts it.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { threadId, workerData } from 'node:worker_threads';
import { isActorDefinition, type ActorBehavior, type ActorDefinition } from '../actors/actor.js';
import { readU32, writeActorHeader, type HostControl, type HostWorkerData, type SpawnRequest, type WorkerStatus } from '../actors/host-protocol.js';
import { Mailbox } from '../actors/mailbox.js';
import { ChannelReader, ChannelWriter } from '../shared/channel.js';
import { Comlink, nodeEndpoint } from '../shared/comlink.js';
import { errorToWire, IllegalStateError } from '../shared/errors.js';
import { ActorFrame, ActorOp } from '../shared/layout.js';
import { createWorkerLogger } from '../shared/logger.js';
import { OrderedWriter } from '../shared/ordered-writer.js';

const IDLE_SLICE_MS = 1_000;
/** Frames handled between two yields to the event loop while the inbox stays busy. */
const POLLS_PER_YIELD = 64;
const REPLY_FLUSH_TIMEOUT_MS = 30_000;

type AnyDefinition = ActorDefinition<unknown, unknown, unknown>;

interface HostedActor {
  definition: AnyDefinition;
  behavior: ActorBehavior<unknown, unknown>;
  mailbox: Mailbox<unknown, unknown>;
}

const data = workerData as HostWorkerData;
const startedMs = performance.now();
const logger = createWorkerLogger(data.log, data.logLevel, { worker: data.name });
const inbox = new ChannelReader(data.inbox);
const outboxWriter = new ChannelWriter(data.outbox);
const outbox = new OrderedWriter(outboxWriter, {
  flushTimeoutMs: REPLY_FLUSH_TIMEOUT_MS,
  onFlushError: (error) => { throw error; }, // the main thread stopped reading: nothing sane is left to do
});
const actors = new Map<number, HostedActor>();
const replyHead = new Uint8Array(ActorFrame.HEADER_BYTES);
const textEncoder = new TextEncoder();
let framesIn = 0;
let queued = 0;
let resumeReading: (() => void) | undefined;

function onHandled(): void {
  queued--;
  if (resumeReading !== undefined && queued <= data.maxQueuedMessages / 2) {
    resumeReading();
    resumeReading = undefined;
  }
}

function reply(correlationId: number, actorId: number, error: unknown, result: unknown, output: AnyDefinition['output']): void {
  let op: ActorOp = ActorOp.REPLY;
  let body: Uint8Array;
  if (error === undefined) {
    try {
      body = output.encode(result);
    } catch (encodeError) {
      op = ActorOp.REPLY_ERROR;
      body = textEncoder.encode(JSON.stringify(errorToWire(encodeError)));
    }
  } else {
    op = ActorOp.REPLY_ERROR;
    body = textEncoder.encode(JSON.stringify(errorToWire(error)));
  }
  writeActorHeader(replyHead, op, actorId, correlationId);
  if (!outbox.write(replyHead, body)) {
    throw new IllegalStateError(`actor host ${data.name}: reply backlog full, the main thread is not reading replies`);
  }
}

function onFrame(bytes: Uint8Array, offset: number, length: number): void {
  framesIn++;
  const op = bytes[offset + ActorFrame.OP_OFFSET];
  const actorId = readU32(bytes, offset + ActorFrame.ACTOR_ID_OFFSET);
  const correlationId = readU32(bytes, offset + ActorFrame.CORRELATION_ID_OFFSET);
  // Copied: the channel reuses its staging buffer, and the message may wait in a mailbox.
  const body = bytes.slice(offset + ActorFrame.HEADER_BYTES, offset + length);
  const actor = actors.get(actorId);
  if (actor === undefined) {
    const error = new IllegalStateError(`actor ${actorId} is not running on worker ${data.name}`);
    if (op === ActorOp.ASK) reply(correlationId, actorId, error, undefined, { encode: () => new Uint8Array(0), decode: () => undefined });
    else logger.warn({ actorId }, 'tell to an actor that is not running: dropped');
    return;
  }
  const { definition, mailbox } = actor;
  let message: unknown;
  try {
    message = definition.input.decode(body);
  } catch (error) {
    if (op === ActorOp.ASK) reply(correlationId, actorId, error, undefined, definition.output);
    else logger.warn({ actorId, kind: definition.kind, err: error }, 'undecodable tell: dropped');
    return;
  }
  queued++;
  if (op === ActorOp.ASK) {
    mailbox.enqueue(message, (error, result) => reply(correlationId, actorId, error, result, definition.output));
  } else {
    mailbox.enqueue(message);
  }
}

async function serve(): Promise<void> {
  let polls = 0;
  for (;;) {
    if (queued >= data.maxQueuedMessages) {
      await new Promise<void>((resolve) => { resumeReading = resolve; });
      continue;
    }
    if (inbox.poll(onFrame) > 0) {
      if (++polls % POLLS_PER_YIELD === 0) await yieldToEventLoop();
      continue;
    }
    if ((await inbox.waitAsync(IDLE_SLICE_MS)) === 'closed') return;
  }
}

async function spawn(request: SpawnRequest): Promise<void> {
  if (actors.has(request.actorId)) throw new IllegalStateError(`actor ${request.actorId} already runs on worker ${data.name}`);
  const mod = (await import(request.module)) as Record<string, unknown>;
  const definition = Object.values(mod).find((v) => isActorDefinition(v) && v.kind === request.kind) as AnyDefinition | undefined;
  if (definition === undefined) {
    throw new IllegalStateError(`module ${request.module} exports no actor definition of kind '${request.kind}'`);
  }
  const actorLogger = logger.child({ actor: definition.kind, actorId: request.actorId });
  const behavior = await definition.create({ id: request.actorId, kind: definition.kind, logger: actorLogger }, request.args);
  const mailbox = new Mailbox(behavior, (error) => actorLogger.error({ err: error }, 'tell handler failed'), onHandled);
  actors.set(request.actorId, { definition, behavior, mailbox });
  actorLogger.debug('actor started');
}

async function stopActor(actorId: number): Promise<void> {
  const actor = actors.get(actorId);
  if (actor === undefined) return;
  await actor.mailbox.idle();
  actors.delete(actorId);
  await actor.behavior.stop?.();
}

const serving = serve();

const control: HostControl = {
  spawn,
  stopActor,
  async status(): Promise<WorkerStatus> {
    return {
      name: data.name,
      threadId,
      uptimeMs: Math.round(performance.now() - startedMs),
      heapUsedBytes: process.memoryUsage().heapUsed,
      framesIn,
      actors: [...actors].map(([id, a]) => ({ id, kind: a.definition.kind, handled: a.mailbox.handled, queued: a.mailbox.depth })),
    };
  },
  async shutdown(): Promise<void> {
    await serving;
    for (const actorId of [...actors.keys()]) await stopActor(actorId);
    await outbox.flushed();
    outboxWriter.close();
    inbox.close();
    logger.debug('actor host stopped');
  },
};

Comlink.expose(control, nodeEndpoint(data.control));
