/**
 * TcpTransport: a KafkaTransport over one TCP connection (node:net), for a KafkaClient on any
 * thread, a worker's included. Requests are pipelined and matched to responses by correlation id.
 * It connects on first use and, after the connection drops, on the next request, waiting a
 * reconnect backoff that doubles per failure (Kafka's reconnect.backoff.ms and
 * reconnect.backoff.max.ms, with ±20% jitter); requests in flight when it drops fail with a
 * retriable NetworkError, since whether the broker handled them is unknown. Every wait is bounded:
 * each request by its timeout, and the connect by Kafka's socket.connection.setup.timeout.ms, which
 * doubles per failed attempt in a row up to socket.connection.setup.timeout.max.ms (±20% jitter),
 * so that a peer that never answers a SYN costs one short wait first and is not hammered later.
 */
import { exponentialBackoffMs, withJitter } from '../shared/backoff.js';
import { connect as netConnect, type Socket } from 'node:net';
import { ChannelClosedError, NetworkError, TimeoutError } from '../shared/errors.js';
import { FrameReader } from '../shared/frame-reader.js';
import { formatHostPort, type HostPort } from '../shared/listeners.js';
import type { KafkaTransport } from './kafka-client.js';
import { PendingRequests, responseCorrelationIdOf } from './pending-requests.js';

/** Kafka's socket.connection.setup.timeout.ms and socket.connection.setup.timeout.max.ms defaults. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MAX_MS = 30_000;

export interface TcpTransportOptions {
  /** socket.connection.setup.timeout.ms and socket.connection.setup.timeout.max.ms */
  connectTimeoutMs?: number;
  connectTimeoutMaxMs?: number;
  /** reconnect.backoff.ms and reconnect.backoff.max.ms */
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  /** Largest response frame accepted; a larger size closes the connection. */
  maxResponseBytes?: number;
  /** Failures shared by every transport to this address (a connector's), so that a new transport backs off too. */
  backoff?: ReconnectBackoff;
}

/**
 * Connection attempts to one address, as Kafka's ClusterConnectionStates counts them: the backoff
 * before the next attempt and the bound on its set-up both grow with the failures in a row.
 */
export class ReconnectBackoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #setupTimeoutMs: number;
  readonly #setupTimeoutMaxMs: number;
  #failures = 0;
  #notBeforeMs = 0;

  constructor(baseMs = 50, maxMs = 1_000, setupTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, setupTimeoutMaxMs = DEFAULT_CONNECT_TIMEOUT_MAX_MS) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
    this.#setupTimeoutMs = setupTimeoutMs;
    this.#setupTimeoutMaxMs = setupTimeoutMaxMs;
  }

  /** How long to wait before the next attempt. */
  get delayMs(): number {
    return Math.max(0, this.#notBeforeMs - Date.now());
  }

  /** The bound on the next attempt's set-up: the timeout doubled per failure in a row, at most the maximum (never below the timeout), ±20%. */
  setupTimeoutMs(): number {
    const ms = Math.max(this.#setupTimeoutMs, exponentialBackoffMs(this.#failures + 1, this.#setupTimeoutMs, this.#setupTimeoutMaxMs));
    return Math.round(withJitter(ms));
  }

  failed(): void {
    this.#failures = Math.min(this.#failures + 1, 31);
    this.#notBeforeMs = Date.now() + withJitter(exponentialBackoffMs(this.#failures, this.#baseMs, this.#maxMs));
  }

  succeeded(): void {
    this.#failures = 0;
    this.#notBeforeMs = 0;
  }
}

const MAX_FRAME_BYTES = 0x7fffffff;

export class TcpTransport implements KafkaTransport {
  readonly address: HostPort;
  readonly #maxResponseBytes: number;
  readonly #backoff: ReconnectBackoff;
  readonly #pending: PendingRequests;
  #socket: Socket | null = null;
  #connecting: Promise<Socket> | null = null;
  /** Frames asked for before the connection was up. */
  #queued: Uint8Array[] = [];
  #closed = false;

  constructor(address: HostPort, options: TcpTransportOptions = {}) {
    this.address = address;
    this.#pending = new PendingRequests(formatHostPort(address));
    this.#maxResponseBytes = options.maxResponseBytes ?? MAX_FRAME_BYTES;
    this.#backoff = options.backoff ?? new ReconnectBackoff(options.reconnectBackoffMs, options.reconnectBackoffMaxMs, options.connectTimeoutMs, options.connectTimeoutMaxMs);
  }

  /** Connects now (after any backoff); resolves once connected. */
  async connect(): Promise<void> {
    await this.#connected();
  }

  request(frame: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new ChannelClosedError('connection is closed'));
    return this.#pending.add(frame, timeoutMs, () => this.#write(frame));
  }

  /** A request that gets no answer (Produce with acks=0): written once connected; lost if the connection fails. */
  send(frame: Uint8Array): void {
    if (this.#closed) throw new ChannelClosedError('connection is closed');
    this.#write(frame);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket?.destroy();
    this.#socket = null;
    this.#pending.failAll(new ChannelClosedError('connection closed'));
  }

  /** Writes now, or queues in order until connected (a failed connect fails the requests waiting). */
  #write(frame: Uint8Array): void {
    if (this.#socket !== null) {
      this.#socket.write(frame);
      return;
    }
    this.#queued.push(frame);
    this.#connected().catch((error: unknown) => {
      this.#queued = [];
      this.#pending.failAll(error as Error);
    });
  }

  #connected(): Promise<Socket> {
    if (this.#socket !== null) return Promise.resolve(this.#socket);
    this.#connecting ??= this.#open().finally(() => { this.#connecting = null; });
    return this.#connecting;
  }

  async #open(): Promise<Socket> {
    const delayMs = this.#backoff.delayMs;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (this.#closed) throw new ChannelClosedError('connection is closed');
    const where = formatHostPort(this.address);
    const timeoutMs = this.#backoff.setupTimeoutMs();
    const socket = netConnect({ host: this.address.host, port: this.address.port, noDelay: true });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new TimeoutError('ERR_CONNECT_TIMEOUT', `cannot connect to ${where} within socket.connection.setup.timeout.ms`, timeoutMs)), timeoutMs);
        socket.once('connect', () => { clearTimeout(timer); resolve(); });
        socket.once('error', (error) => { clearTimeout(timer); reject(new NetworkError(`cannot connect to ${where}: ${error.message}`, { cause: error })); });
      });
    } catch (error) {
      socket.destroy();
      this.#backoff.failed();
      throw error;
    }
    if (this.#closed) {
      socket.destroy();
      throw new ChannelClosedError('connection is closed');
    }
    this.#backoff.succeeded();
    const reader = new FrameReader(this.#maxResponseBytes);
    const onFrame = (frame: Buffer): void => this.#pending.settle(responseCorrelationIdOf(frame))?.(frame);
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, onFrame);
      } catch (error) {
        socket.destroy(error as Error);
      }
    });
    socket.on('error', () => undefined); // 'close' follows and does the work
    // What was asked while connecting goes first, in order.
    for (const frame of this.#queued) socket.write(frame);
    this.#queued = [];
    socket.once('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      if (!this.#closed) this.#backoff.failed();
      this.#pending.failAll(new NetworkError(`the connection to ${where} closed`));
    });
    this.#socket = socket;
    return socket;
  }
}
