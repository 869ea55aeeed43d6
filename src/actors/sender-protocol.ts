/**
 * What crosses between a Producer (main thread) and its sender worker: start-up data and the two
 * comlink APIs. Batches and their outcomes travel over ring channels (ProducerFrame in layout.ts).
 */
import type { MessagePort } from 'node:worker_threads';
import type { ChannelHandle } from '../shared/channel.js';
import type { ConnectionHandles } from './embedded-connection.js';
import type { SenderOptions, TopicMetadata } from './sender.js';

export interface SenderWorkerData {
  options: SenderOptions;
  clientId: string;
  /** main -> sender: TOPIC and BATCH frames. */
  batches: ChannelHandle;
  /** sender -> main: DONE and FAILED frames. */
  completions: ChannelHandle;
  /** The main thread's Connector, for embedded connections to brokers. */
  connector: MessagePort;
  /** bootstrap.servers: when not empty, the worker opens TCP connections itself instead. */
  bootstrapServers: string[];
  control: MessagePort;
  log: MessagePort;
  logLevel: string;
}

/** Exposed by the main thread: opens embedded connections to broker workers. */
export interface Connector {
  /** A connection to broker `nodeId`, or to any broker when null. */
  connect(nodeId: number | null): Promise<{ nodeId: number; handles: ConnectionHandles }>;
}

/** Exposed by the sender worker. */
export interface SenderControl {
  /** Gets a producer id when idempotent; resolves once the sender can send. */
  start(): Promise<{ producerId: number; producerEpoch: number }>;
  metadata(topics: string[]): Promise<TopicMetadata[]>;
  /** Waits until every batch taken so far is answered, then closes the connections. */
  close(timeoutMs: number): Promise<void>;
}
