/**
 * startCluster: brokers as worker threads in this process, supervised (one_for_one), reached
 * over the embedded transport and, with a listener (`port`, or `listeners` in brokerConfig), over
 * TCP by any Kafka client. A BrokerLink is the main thread's end of one broker worker: it
 * holds the data directory's lock for as long as it lives (so a restart after a crash can reopen
 * the directory, and a second cluster on it cannot), starts and stops the worker, and opens client
 * connections to it. Main thread only.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveBrokerOptions, type BrokerOptions } from '../shared/broker-config.js';
import { IllegalStateError } from '../shared/errors.js';
import { formatHostPort, listenerPlan, type HostPort, type ListenerPlan } from '../shared/listeners.js';
import { acquireDirectoryLock } from '../shared/log/checkpoint.js';
import { createRootLogger, type Logger } from '../shared/logger.js';
import type { BrokerControl, BrokerStatus, BrokerWorkerData } from './broker-protocol.js';
import { callControl, endControlledWorker, startControlledWorker, type ControlledWorker } from './controlled-worker.js';
import { Admin, type AdminConfig } from './admin.js';
import { createConnectionHandles, EmbeddedConnection, type ConnectionHandles } from './embedded-connection.js';
import { Consumer, type ConsumerConfig } from './consumer.js';
import { Producer, type ProducerConfig, type ProducerTarget } from './producer.js';
import { KafkaClient, type KafkaClientOptions } from './kafka-client.js';
import { Supervisor, type SupervisedChild, type SupervisorOptions } from './supervisor.js';

export interface ClusterOptions {
  /** Where the broker keeps its log (overrides log.dirs). */
  dataDir: string;
  /** Broker options by Kafka name or camelCase: 'log.segment.bytes', numPartitions, ... */
  brokerConfig?: Readonly<Record<string, unknown>>;
  /**
   * Listen for Kafka clients on TCP: broker k on port + k (0: an ephemeral port), on 127.0.0.1
   * unless `listeners` names a host. Without it, only `listeners` in brokerConfig opens a port.
   */
  port?: number;
  logger?: Logger;
  supervision?: SupervisorOptions;
  controlTimeoutMs?: number;
}

const DEFAULT_CONTROL_TIMEOUT_MS = 30_000;

export class BrokerLink implements SupervisedChild {
  readonly name: string;
  readonly options: BrokerOptions;
  readonly #logger: Logger;
  readonly #controlTimeoutMs: number;
  #listener: ListenerPlan | null;
  #address: HostPort | null = null;
  #releaseLock: (() => void) | undefined;
  #current: ControlledWorker<BrokerControl> | undefined;
  #stopping = false;
  #onCrash: (error: Error) => void = () => undefined;

  constructor(options: BrokerOptions, logger: Logger, controlTimeoutMs: number, listener: ListenerPlan | null = null) {
    this.options = options;
    this.#listener = listener;
    this.name = `broker-${options.brokerId}`;
    this.#logger = logger;
    this.#controlTimeoutMs = controlTimeoutMs;
  }

  setCrashHandler(handler: (error: Error) => void): void {
    this.#onCrash = handler;
  }

  async start(): Promise<void> {
    const logDir = this.options.logDirs[0]!;
    mkdirSync(logDir, { recursive: true });
    this.#releaseLock ??= acquireDirectoryLock(logDir);
    this.#stopping = false;
    const data: Omit<BrokerWorkerData, 'control' | 'log' | 'logLevel'> = {
      options: this.options,
      endpoint: { nodeId: this.options.brokerId, host: 'embedded', port: 0 },
      listener: this.#listener,
    };
    const broker = startControlledWorker<BrokerControl>('broker', this.name, { ...data }, this.#logger);
    this.#current = broker;
    void broker.exited.then((code) => {
      if (this.#current !== broker || this.#stopping) return;
      this.#current = undefined;
      this.#onCrash(broker.lastError() ?? new Error(`${this.name} exited with code ${code}`));
    });
    // The first status answer comes once the broker has reopened its log and is serving.
    const status = await callControl(broker, (c) => c.status(), this.#controlTimeoutMs);
    if (status.listener !== null && this.#listener !== null) {
      this.#address = status.listener.advertised;
      // A restarted broker (after a crash) binds the port it had, so its clients find it again.
      if (this.#listener.bind.port === 0) this.#listener = { ...this.#listener, bind: { ...this.#listener.bind, port: status.listener.bound.port } };
    }
  }

  /** The advertised "host:port" of this broker's TCP listener, or null without one. */
  get address(): string | null {
    return this.#address === null ? null : formatHostPort(this.#address);
  }

  async stop(timeoutMs = this.#controlTimeoutMs): Promise<void> {
    this.#stopping = true;
    const broker = this.#current;
    this.#current = undefined;
    try {
      if (broker !== undefined) await callControl(broker, (c) => c.shutdown(), timeoutMs);
    } catch (error) {
      this.#logger.warn({ broker: this.name, err: error }, 'broker did not stop cleanly; terminating it');
    } finally {
      if (broker !== undefined) await endControlledWorker(broker);
      this.#releaseLock?.();
      this.#releaseLock = undefined;
    }
  }

  /** A new client connection to this broker over a ring-channel pair. */
  async connect(): Promise<EmbeddedConnection> {
    return new EmbeddedConnection(await this.openHandles());
  }

  /** The channel pair of a new connection, for a client on another thread (a sender worker). */
  async openHandles(): Promise<ConnectionHandles> {
    const broker = this.#running();
    const handles = createConnectionHandles();
    await callControl(broker, (c) => c.connect(handles), this.#controlTimeoutMs);
    return handles;
  }

  /**
   * Stops serving requests until resume(): they wait in their connections, as behind a stalled
   * disk or a long GC pause. For tests of timeouts and back-pressure.
   */
  async pause(): Promise<void> {
    await callControl(this.#running(), (c) => c.pause(), this.#controlTimeoutMs);
  }

  async resume(): Promise<void> {
    await callControl(this.#running(), (c) => c.resume(), this.#controlTimeoutMs);
  }

  async status(): Promise<BrokerStatus> {
    return callControl(this.#running(), (c) => c.status(), this.#controlTimeoutMs);
  }

  /** Ends the broker thread at once, as a crash would; the supervisor restarts it (for tests). */
  async kill(): Promise<void> {
    await this.#running().worker.terminate();
  }

  #running(): ControlledWorker<BrokerControl> {
    if (this.#current === undefined) throw new IllegalStateError(`${this.name} is not running`);
    return this.#current;
  }
}

export class Cluster implements ProducerTarget {
  readonly brokers: readonly BrokerLink[];
  readonly supervisor: Supervisor;
  readonly logger: Logger;
  #closed = false;

  constructor(brokers: BrokerLink[], supervisor: Supervisor, logger: Logger) {
    this.brokers = brokers;
    this.supervisor = supervisor;
    this.logger = logger;
  }

  /** "host:port,..." of the brokers' TCP listeners, for any Kafka client's bootstrap.servers. */
  get bootstrapServers(): string {
    const addresses = this.brokers.map((b) => b.address).filter((a) => a !== null);
    if (addresses.length === 0) throw new IllegalStateError('this cluster has no TCP listener: start it with a port or listeners');
    return addresses.join(',');
  }

  broker(brokerId = 0): BrokerLink {
    const broker = this.brokers.find((b) => b.options.brokerId === brokerId);
    if (broker === undefined) throw new IllegalStateError(`no broker ${brokerId} in this cluster`);
    return broker;
  }

  connect(brokerId = 0): Promise<EmbeddedConnection> {
    return this.broker(brokerId).connect();
  }

  /** A Kafka client on a new connection to a broker, versions already negotiated. */
  async client(brokerId = 0, options: KafkaClientOptions = {}): Promise<KafkaClient> {
    const client = new KafkaClient(await this.connect(brokerId), options);
    await client.negotiate();
    return client;
  }

  /** Connection handles to broker `nodeId`, or to the first broker running when null. */
  async openConnection(nodeId: number | null): Promise<{ nodeId: number; handles: ConnectionHandles }> {
    const broker = nodeId === null ? this.brokers[0]! : this.broker(nodeId);
    return { nodeId: broker.options.brokerId, handles: await broker.openHandles() };
  }

  /** A started Producer on this cluster: Kafka's producer options plus serializers and hooks. */
  producer<K = unknown, V = unknown>(config: ProducerConfig<K, V> = {}): Promise<Producer<K, V>> {
    return Producer.start<K, V>(this, config);
  }

  /** A Consumer on this cluster: Kafka's consumer options plus deserializers and hooks. */
  consumer<K = Buffer | null, V = Buffer | null>(config: ConsumerConfig<K, V> = {}): Promise<Consumer<K, V>> {
    return Consumer.start<K, V>(this, config);
  }

  /** An Admin on this cluster: topics, offsets and consumer groups, with Kafka's admin options. */
  admin(config: AdminConfig = {}): Promise<Admin> {
    return Admin.start(this, config);
  }

  /** Stops every broker gracefully: in-flight requests finish, logs are flushed and marked clean. */
  async close(timeoutMs?: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.supervisor.stop(timeoutMs);
  }
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const logger = options.logger ?? createRootLogger();
  const brokerOptions = resolveBrokerOptions({ ...options.brokerConfig, 'log.dirs': [resolve(options.dataDir)] }, logger);
  const supervisor = new Supervisor('cluster', logger, options.supervision);
  const listener = listenerPlan(brokerOptions.listeners, brokerOptions.advertisedListeners, options.port, 0);
  const broker = new BrokerLink(brokerOptions, logger, options.controlTimeoutMs ?? DEFAULT_CONTROL_TIMEOUT_MS, listener);
  await supervisor.add(broker);
  return new Cluster([broker], supervisor, logger);
}
