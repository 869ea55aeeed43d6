/**
 * TcpConnector: KafkaClients to brokers over TCP from bootstrap.servers, as Kafka's NetworkClient
 * and ManualMetadataUpdater do. It bootstraps from the servers in turn, learns every broker's
 * advertised address from a Metadata answer, and opens a client to a node by its id. A node it
 * does not know yet sends it back to the bootstrap servers for fresh metadata. Connection attempts
 * to one address back off exponentially between failures. Lives on one event-loop thread (the
 * sender worker's).
 */
import { IllegalStateError } from '../shared/errors.js';
import { formatHostPort, type HostPort } from '../shared/listeners.js';
import type { Logger } from '../shared/logger.js';
import { ApiKeys } from '../shared/protocol/index.js';
import { KafkaClient } from './kafka-client.js';
import { ReconnectBackoff, TcpTransport } from './tcp-transport.js';

export interface TcpConnectorOptions {
  clientId: string;
  requestTimeoutMs: number;
  /** reconnect.backoff.ms and reconnect.backoff.max.ms */
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  /** socket.connection.setup.timeout.ms and socket.connection.setup.timeout.max.ms */
  connectTimeoutMs?: number;
  connectTimeoutMaxMs?: number;
  logger: Logger;
}

export class TcpConnector {
  readonly #bootstrap: HostPort[];
  readonly #options: TcpConnectorOptions;
  readonly #nodes = new Map<number, HostPort>();
  readonly #backoffs = new Map<string, ReconnectBackoff>();
  #nextBootstrap = 0;

  constructor(bootstrap: HostPort[], options: TcpConnectorOptions) {
    if (bootstrap.length === 0) throw new IllegalStateError('a TCP connector needs at least one bootstrap server');
    this.#bootstrap = bootstrap;
    this.#options = options;
  }

  /** Broker addresses learnt so far, by node id. */
  get nodes(): ReadonlyMap<number, HostPort> {
    return this.#nodes;
  }

  /**
   * A client to broker `nodeId`, or with null to whichever bootstrap server answers first (its node
   * id if it is among the brokers metadata lists, else -1 - its index, as Kafka numbers bootstrap nodes).
   */
  readonly connect = async (nodeId: number | null): Promise<{ nodeId: number; client: KafkaClient }> => {
    if (nodeId === null) return this.#bootstrapClient();
    let address = this.#nodes.get(nodeId);
    if (address === undefined) {
      const { client } = await this.#bootstrapClient();
      client.close();
      address = this.#nodes.get(nodeId);
      if (address === undefined) throw new IllegalStateError(`the cluster's metadata lists no broker ${nodeId}`);
    }
    return { nodeId, client: await this.#open(address) };
  };

  /** Asks a broker for the cluster's brokers (no topics) and remembers their addresses. */
  async refresh(client: KafkaClient): Promise<void> {
    // No topics from v1 (v0 reads [] as every topic, which costs more but creates none).
    const response = await client.request(ApiKeys.METADATA, { topics: [], allowAutoTopicCreation: false });
    for (const broker of response.brokers as { nodeId: number; host: string; port: number }[]) {
      this.#nodes.set(broker.nodeId, { host: broker.host, port: broker.port });
    }
  }

  async #bootstrapClient(): Promise<{ nodeId: number; client: KafkaClient }> {
    let lastError: unknown;
    for (let tried = 0; tried < this.#bootstrap.length; tried++) {
      const index = this.#nextBootstrap;
      this.#nextBootstrap = (index + 1) % this.#bootstrap.length;
      const address = this.#bootstrap[index]!;
      try {
        const client = await this.#open(address);
        await this.refresh(client).catch((error: unknown) => { client.close(); throw error; });
        const where = formatHostPort(address);
        const known = [...this.#nodes].find(([, a]) => formatHostPort(a) === where);
        return { nodeId: known?.[0] ?? -1 - index, client };
      } catch (error) {
        lastError = error;
        this.#options.logger.warn({ server: formatHostPort(address), err: error }, 'bootstrap server unavailable');
      }
    }
    throw lastError;
  }

  async #open(address: HostPort): Promise<KafkaClient> {
    const key = formatHostPort(address);
    let backoff = this.#backoffs.get(key);
    if (backoff === undefined) {
      const o = this.#options;
      backoff = new ReconnectBackoff(o.reconnectBackoffMs, o.reconnectBackoffMaxMs, o.connectTimeoutMs, o.connectTimeoutMaxMs);
      this.#backoffs.set(key, backoff);
    }
    const transport = new TcpTransport(address, { backoff });
    const client = new KafkaClient(transport, { clientId: this.#options.clientId, requestTimeoutMs: this.#options.requestTimeoutMs });
    try {
      await client.negotiate();
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }
}
