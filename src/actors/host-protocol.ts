/**
 * What crosses between an actor system (main thread) and an actor-host worker: the worker's
 * start-up data, its comlink control API, and the binary actor frames on its two channels
 * (layout in shared/layout.ts: ActorFrame, ActorOp).
 */
import type { MessagePort } from 'node:worker_threads';
import type { ChannelHandle } from '../shared/channel.js';
import { ActorFrame, type ActorOp } from '../shared/layout.js';

export interface HostWorkerData {
  name: string;
  /** main -> worker: TELL and ASK frames. */
  inbox: ChannelHandle;
  /** worker -> main: REPLY and REPLY_ERROR frames. */
  outbox: ChannelHandle;
  /** comlink endpoint for HostControl. */
  control: MessagePort;
  /** Log lines from the worker's logger. */
  log: MessagePort;
  logLevel: string;
  /** Messages that may wait in mailboxes before the host stops reading its inbox. */
  maxQueuedMessages: number;
}

export interface SpawnRequest {
  actorId: number;
  module: string;
  kind: string;
  args: unknown;
}

export interface ActorStatus {
  id: number;
  kind: string;
  handled: number;
  queued: number;
}

export interface WorkerStatus {
  name: string;
  threadId: number;
  uptimeMs: number;
  heapUsedBytes: number;
  framesIn: number;
  actors: ActorStatus[];
}

/** The control plane of an actor-host worker, over comlink. Never on the data path. */
export interface HostControl {
  spawn(request: SpawnRequest): Promise<void>;
  stopActor(actorId: number): Promise<void>;
  status(): Promise<WorkerStatus>;
  /** After the inbox was closed: handle what is queued, stop every actor, close the outbox. */
  shutdown(): Promise<void>;
}

/** Writes an actor frame header into `head` (ActorFrame.HEADER_BYTES long). */
export function writeActorHeader(head: Uint8Array, op: ActorOp, actorId: number, correlationId: number): void {
  head[ActorFrame.OP_OFFSET] = op;
  writeU32(head, ActorFrame.ACTOR_ID_OFFSET, actorId);
  writeU32(head, ActorFrame.CORRELATION_ID_OFFSET, correlationId);
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}
