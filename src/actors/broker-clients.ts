/**
 * BrokerClients: a client worker's connections to brokers, one KafkaClient per node, opened
 * through the main thread's Connector on first use and dropped after a failure (the next request
 * reconnects, to a restarted broker say). Also the Metadata request every client needs. Used by the
 * client workers (sender, fetcher, heartbeat); lives on one event-loop thread.
 */
import type { Remote } from 'comlink';
import { ApiKeys, ErrorCodes, ZERO_UUID } from '../shared/protocol/index.js';
import { EmbeddedConnection } from './embedded-connection.js';
import { KafkaClient } from './kafka-client.js';
import { parseHostPorts } from '../shared/listeners.js';
import type { Logger } from '../shared/logger.js';
import type { Connector } from './sender-protocol.js';
import { TcpConnector } from './tcp-connector.js';

/** A decoded body, indexed freely: the generic codec's shapes follow the schemas, not TS types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

/** Opens a client to a broker (null: any broker, to bootstrap). */
export type Connect = (nodeId: number | null) => Promise<{ nodeId: number; client: KafkaClient }>;

/** The client options (same names in the producer's and the consumer's tables) that shape TCP connection attempts. */
export interface SocketOptions {
  reconnectBackoffMs: number;
  reconnectBackoffMaxMs: number;
  socketConnectionSetupTimeoutMs: number;
  socketConnectionSetupTimeoutMaxMs: number;
}

/**
 * How a client worker reaches brokers: with bootstrap.servers, TCP sockets it owns (tcp-connector.ts);
 * without, embedded connections through the main thread's Connector.
 */
export function workerConnect(options: { bootstrapServers: readonly string[]; connector: Remote<Connector>; clientId: string; requestTimeoutMs: number; socket: SocketOptions; logger: Logger }): Connect {
  if (options.bootstrapServers.length === 0) return connectThrough(options.connector, options.clientId, options.requestTimeoutMs);
  const { socket } = options;
  return new TcpConnector(parseHostPorts(options.bootstrapServers), {
    clientId: options.clientId, requestTimeoutMs: options.requestTimeoutMs, logger: options.logger,
    reconnectBackoffMs: socket.reconnectBackoffMs, reconnectBackoffMaxMs: socket.reconnectBackoffMaxMs,
    connectTimeoutMs: socket.socketConnectionSetupTimeoutMs, connectTimeoutMaxMs: socket.socketConnectionSetupTimeoutMaxMs,
  }).connect;
}

/** A Connect over the main thread's Connector: a new embedded connection, versions negotiated. */
export function connectThrough(connector: Connector, clientId: string, requestTimeoutMs: number): Connect {
  return async (nodeId) => {
    const connected = await connector.connect(nodeId);
    const client = new KafkaClient(new EmbeddedConnection(connected.handles), { clientId, requestTimeoutMs });
    try {
      await client.negotiate();
    } catch (error) {
      client.close();
      throw error;
    }
    return { nodeId: connected.nodeId, client };
  };
}

export class BrokerClients {
  readonly #connect: Connect;
  readonly #clients = new Map<number, Promise<KafkaClient>>();

  constructor(connect: Connect) {
    this.#connect = connect;
  }

  /** The shared connection to `nodeId`. */
  get(nodeId: number): Promise<KafkaClient> {
    let client = this.#clients.get(nodeId);
    if (client === undefined) {
      client = this.#connect(nodeId).then(({ client: c }) => c);
      client.catch(() => this.#clients.get(nodeId) === client && this.#clients.delete(nodeId));
      this.#clients.set(nodeId, client);
    }
    return client;
  }

  /** Any connected broker, or a new connection to whichever the connector picks. */
  async any(): Promise<{ nodeId: number; client: KafkaClient }> {
    for (const [nodeId, client] of this.#clients) {
      try {
        return { nodeId, client: await client };
      } catch {
        // try the next
      }
    }
    const connected = await this.#connect(null);
    this.#clients.set(connected.nodeId, Promise.resolve(connected.client));
    return connected;
  }

  /** A connection of its own to `nodeId`, not shared (the caller closes it). */
  async dedicated(nodeId: number): Promise<KafkaClient> {
    return (await this.#connect(nodeId)).client;
  }

  /** Closes the connection to `nodeId` after a failure; the next get() reconnects. */
  drop(nodeId: number): void {
    const client = this.#clients.get(nodeId);
    this.#clients.delete(nodeId);
    void client?.then((c) => c.close(), () => undefined);
  }

  closeAll(): void {
    for (const nodeId of [...this.#clients.keys()]) this.drop(nodeId);
  }
}

export interface TopicMetadata {
  errorCode: number;
  isInternal: boolean;
  /** The leader of each partition, by partition index (-1: none). */
  leaders: number[];
}

/** Metadata for `topics` (null: every topic), by topic name. */
export async function requestMetadata(client: KafkaClient, topics: readonly string[] | null, allowAutoTopicCreation: boolean, timeoutMs?: number): Promise<Map<string, TopicMetadata>> {
  const version = client.version(ApiKeys.METADATA) ?? 0;
  const response = await client.request(ApiKeys.METADATA, {
    // Every topic: null from v1, an empty list in v0.
    topics: topics === null ? (version === 0 ? [] : null) : topics.map((name) => ({ name, topicId: ZERO_UUID })),
    allowAutoTopicCreation,
    includeTopicAuthorizedOperations: false,
    includeClusterAuthorizedOperations: false,
  }, { timeoutMs });
  const result = new Map<string, TopicMetadata>();
  for (const topic of response.topics as Body[]) {
    if (topic.name === null) continue;
    const leaders: number[] = [];
    for (const p of topic.partitions as Body[]) leaders[p.partitionIndex as number] = p.errorCode === ErrorCodes.NONE || p.leaderId >= 0 ? p.leaderId : -1;
    result.set(topic.name, { errorCode: topic.errorCode, isInternal: topic.isInternal === true, leaders: Array.from(leaders, (l) => l ?? -1) });
  }
  return result;
}
