/**
 * HeartbeatLink: the main thread's end of a consumer's heartbeat worker. It starts the worker with
 * the shared state (the poll clock), forwards the worker's group events to the consumer, and makes
 * the group calls (join, commit, committed, leave) as bounded control calls. Main thread only.
 */
import { MessageChannel } from 'node:worker_threads';
import type { TopicPartition } from '../shared/assignors.js';
import type { Logger } from '../shared/logger.js';
import { exposeConnector } from './connector.js';
import type {
  CommittedOffset, GroupEvent, HeartbeatControl, HeartbeatWorkerData, JoinOutcome, OffsetToCommit, SubscriptionSpec,
} from './consumer-protocol.js';
import { callControl, endControlledWorker, startControlledWorker, type ControlledWorker } from './controlled-worker.js';
import type { ConnectionHandles } from './embedded-connection.js';
import type { SocketOptions } from './broker-clients.js';
import type { MembershipOptions } from './membership.js';

export interface HeartbeatLinkOptions {
  name: string;
  membership: MembershipOptions & SocketOptions;
  connect: (nodeId: number | null) => Promise<{ nodeId: number; handles: ConnectionHandles }>;
  /** When not empty, the worker connects over TCP instead of through `connect`. */
  bootstrapServers: string[];
  state: SharedArrayBuffer;
  clockBaseMs: number;
  logger: Logger;
  controlTimeoutMs: number;
  onEvent: (event: GroupEvent) => void;
}

/** A join may wait out a whole rebalance (up to the rebalance timeout) and a few retries after it. */
const JOIN_SLACK_MS = 60_000;

export class HeartbeatLink {
  readonly #worker: ControlledWorker<HeartbeatControl>;
  readonly #options: HeartbeatLinkOptions;
  #closed = false;

  constructor(options: HeartbeatLinkOptions) {
    this.#options = options;
    const connector = exposeConnector(options.connect);
    const events = new MessageChannel();
    events.port1.on('message', (event: GroupEvent) => options.onEvent(event));
    const data: Omit<HeartbeatWorkerData, 'control' | 'log' | 'logLevel'> = {
      options: options.membership, clockBaseMs: options.clockBaseMs, state: options.state, events: events.port2,
      bootstrapServers: options.bootstrapServers, connector: connector.port,
    };
    this.#worker = startControlledWorker<HeartbeatControl>('heartbeat', options.name, { ...data }, options.logger, [connector.port, events.port2]);
    void this.#worker.exited.then(() => {
      connector.close();
      events.port1.close();
    });
  }

  get worker(): ControlledWorker<HeartbeatControl>['worker'] {
    return this.#worker.worker;
  }

  get exited(): Promise<number> {
    return this.#worker.exited;
  }

  /** The error that ended the worker, if one did. */
  lastError(): Error | undefined {
    return this.#worker.lastError();
  }

  join(subscription: SubscriptionSpec, owned: TopicPartition[]): Promise<JoinOutcome> {
    const { maxPollIntervalMs, requestTimeoutMs } = this.#options.membership;
    return callControl(this.#worker, (c) => c.join(subscription, owned), maxPollIntervalMs + 2 * requestTimeoutMs + JOIN_SLACK_MS);
  }

  commit(offsets: OffsetToCommit[], generationId: number, memberId: string, timeoutMs: number): Promise<number[]> {
    return callControl(this.#worker, (c) => c.commit(offsets, generationId, memberId), timeoutMs);
  }

  committed(partitions: TopicPartition[], timeoutMs: number): Promise<CommittedOffset[]> {
    return callControl(this.#worker, (c) => c.committed(partitions), timeoutMs);
  }

  leave(reason: string, timeoutMs: number): Promise<void> {
    return callControl(this.#worker, (c) => c.leave(reason), timeoutMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await callControl(this.#worker, (c) => c.close(), this.#options.controlTimeoutMs);
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'the heartbeat worker did not close cleanly');
    }
    await endControlledWorker(this.#worker);
  }

  /** Ends the worker at once, as a crash would. */
  async kill(): Promise<void> {
    this.#closed = true;
    await endControlledWorker(this.#worker);
  }
}
