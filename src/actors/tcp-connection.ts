/**
 * The broker's end of one client socket: Kafka frames in, responses out in request order, as
 * Kafka's SocketServer processor does for one connection, but with requests pipelined: each is
 * handed to the request handler as it arrives, and answers wait for the ones before them.
 *
 * Bounded memory: the socket stops being read while too many requests are unanswered or too many
 * response bytes wait for the client to read them, and resumes when that falls. A bad frame size
 * or a request the handler refuses (undecodable, unknown API or version) closes the connection,
 * as Kafka does; answers owed before it still go out first. An idle connection is closed after
 * connections.max.idle.ms. Lives on the broker worker's event loop.
 */
import type { Socket } from 'node:net';
import { FrameReader } from '../shared/frame-reader.js';
import type { Logger } from '../shared/logger.js';

/** One request frame (size prefix included) to its response frame, or null when none is owed. */
export type SocketFrameHandler = (frame: Uint8Array, clientHost: string) => Promise<Uint8Array | null>;

export interface TcpConnectionLimits {
  /** socket.request.max.bytes: the largest frame read. */
  maxFrameBytes: number;
  /** connections.max.idle.ms */
  idleMs: number;
  /** Unanswered requests before the socket stops being read. */
  maxInFlight: number;
  /** Response bytes queued for the client before the socket stops being read. */
  maxQueuedBytes: number;
}

/** An answer slot: undefined until the handler settled, null for no answer, 'close' for a refused request. */
type Slot = { frame: Uint8Array | null | undefined | 'close' };

export class TcpConnection {
  readonly clientHost: string;
  readonly #socket: Socket;
  readonly #handle: SocketFrameHandler;
  readonly #limits: TcpConnectionLimits;
  readonly #logger: Logger;
  readonly #reader: FrameReader;
  readonly #slots: Slot[] = [];
  readonly closed: Promise<void>;
  #draining = false;
  #ended = false;
  #onIdle: (() => void) | null = null;
  /** Last request in or answer out, for connections.max.idle.ms (a socket's own timeout is not re-armed by writes). */
  #lastActiveMs = performance.now();
  #idleTimer: NodeJS.Timeout;

  constructor(socket: Socket, handle: SocketFrameHandler, limits: TcpConnectionLimits, logger: Logger) {
    this.#socket = socket;
    this.#handle = handle;
    this.#limits = limits;
    this.clientHost = `/${socket.remoteAddress ?? 'unknown'}`;
    this.#logger = logger.child({ client: `${socket.remoteAddress}:${socket.remotePort}` });
    this.#reader = new FrameReader(limits.maxFrameBytes);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#updateReading());
    socket.on('error', (error) => this.#logger.debug({ err: error }, 'connection error'));
    this.#idleTimer = setTimeout(() => this.#checkIdleTimeout(), limits.idleMs).unref();
    void this.closed.then(() => { this.#ended = true; clearTimeout(this.#idleTimer); this.#checkIdle(); });
  }

  /** Not being read: back-pressure, a refused request, or shutdown. */
  get readPaused(): boolean {
    return this.#socket.isPaused();
  }

  /** Bytes held for a request frame not yet whole. */
  get bufferedBytes(): number {
    return this.#reader.bufferedBytes;
  }

  /** Requests taken and not yet answered. */
  get inFlight(): number {
    return this.#slots.length;
  }

  /**
   * Stops reading, lets the answers owed go out (up to timeoutMs), then closes the socket. For
   * broker shutdown.
   */
  async drainAndClose(timeoutMs: number): Promise<void> {
    this.#draining = true;
    this.#socket.pause();
    if (this.#slots.length > 0 && !this.#ended) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => { this.#onIdle = resolve; }),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
      ]);
      clearTimeout(timer);
    }
    this.#socket.end();
    // A client that does not read its last answers is not waited for beyond the timeout.
    const destroyTimer = setTimeout(() => this.#socket.destroy(), timeoutMs);
    await this.closed;
    clearTimeout(destroyTimer);
  }

  #checkIdleTimeout(): void {
    const idleForMs = performance.now() - this.#lastActiveMs;
    // While answers are being worked out (a long poll), the connection is not idle.
    if (this.#slots.length === 0 && idleForMs >= this.#limits.idleMs) {
      this.#logger.debug({ idleMs: this.#limits.idleMs }, 'closing an idle connection (connections.max.idle.ms)');
      this.#socket.destroy();
      return;
    }
    this.#idleTimer = setTimeout(() => this.#checkIdleTimeout(), Math.max(1, this.#limits.idleMs - idleForMs)).unref();
  }

  #onData(chunk: Buffer): void {
    if (this.#draining || this.#ended) return; // refused or shutting down: nothing more is read
    this.#lastActiveMs = performance.now();
    try {
      this.#reader.push(chunk, (frame) => this.#onFrame(frame));
    } catch (error) {
      this.#logger.warn({ err: error }, 'closing the connection: bad frame');
      this.#refuse();
    }
    this.#updateReading();
  }

  #onFrame(frame: Buffer): void {
    if (this.#ended || this.#draining) return;
    const slot: Slot = { frame: undefined };
    this.#slots.push(slot);
    this.#handle(frame, this.clientHost).then(
      (answer) => { slot.frame = answer; this.#flush(); },
      (error: unknown) => {
        this.#logger.warn({ err: error }, 'closing the connection: request refused');
        slot.frame = 'close';
        this.#flush();
      },
    );
  }

  /** A refused frame: nothing more is read; what is owed before it still goes out. */
  #refuse(): void {
    const slot: Slot = { frame: 'close' };
    this.#slots.push(slot);
    this.#socket.pause();
    this.#draining = true;
    this.#flush();
  }

  /** Writes every answer whose turn has come, in request order. */
  #flush(): void {
    if (this.#ended) return;
    this.#socket.cork();
    while (this.#slots.length > 0 && this.#slots[0]!.frame !== undefined) {
      const { frame } = this.#slots.shift()!;
      if (frame === 'close') {
        this.#slots.length = 0;
        this.#socket.uncork();
        this.#socket.end();
        this.#ended = true;
        this.#checkIdle();
        return;
      }
      if (frame !== null) this.#socket.write(frame!); // settled: not undefined
      this.#lastActiveMs = performance.now();
    }
    this.#socket.uncork();
    this.#checkIdle();
    this.#updateReading();
  }

  #checkIdle(): void {
    if ((this.#slots.length === 0 || this.#ended) && this.#onIdle !== null) {
      const onIdle = this.#onIdle;
      this.#onIdle = null;
      onIdle();
    }
  }

  /** Back-pressure: read while answers and unread response bytes stay within the limits. */
  #updateReading(): void {
    if (this.#ended || this.#draining) return;
    const busy = this.#slots.length >= this.#limits.maxInFlight || this.#socket.writableLength >= this.#limits.maxQueuedBytes;
    if (busy && !this.#socket.isPaused()) this.#socket.pause();
    else if (!busy && this.#socket.isPaused()) this.#socket.resume();
  }
}
