/**
 * What crosses between the main thread and a broker worker: start-up data and the comlink control
 * API. Kafka requests themselves travel over per-connection ring channels (embedded-connection.ts).
 */
import type { MessagePort } from 'node:worker_threads';
import type { BrokerOptions } from '../shared/broker-config.js';
import type { HostPort, ListenerPlan } from '../shared/listeners.js';
import type { ConnectionHandles } from './embedded-connection.js';

export interface BrokerEndpointInfo {
  nodeId: number;
  host: string;
  port: number;
}

export interface BrokerWorkerData {
  options: BrokerOptions;
  /** What Metadata answers as this broker's address without a TCP listener. */
  endpoint: BrokerEndpointInfo;
  /** The TCP listener to start, or null for embedded connections only. */
  listener: ListenerPlan | null;
  control: MessagePort;
  log: MessagePort;
  logLevel: string;
}

export interface BrokerStatus {
  brokerId: number;
  topics: string[];
  connections: number;
  requestsInFlight: number;
  /**
   * The TCP listener's bound and advertised addresses, its connections not being read now
   * (back-pressure), and the bytes it holds for request frames not yet whole; null without one.
   */
  listener: { bound: HostPort; advertised: HostPort; readPaused: number; bufferedBytes: number } | null;
}

export interface BrokerControl {
  /** Serves a new client connection over the given channel pair. */
  connect(handles: ConnectionHandles): Promise<void>;
  status(): Promise<BrokerStatus>;
  /** Stops taking requests off connections until resume() (a stalled broker, for tests). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Graceful stop: in-flight work finishes, the log is flushed and marked clean. */
  shutdown(): Promise<void>;
}
