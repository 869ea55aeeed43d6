/**
 * A broker's TCP listener (Kafka's SocketServer acceptor): binds the listener's address, accepts
 * any number of clients, and serves each socket as a TcpConnection with the same frame handler the
 * embedded transport uses. Lives on the broker worker's event loop.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { RinglogError } from '../shared/errors.js';
import type { HostPort } from '../shared/listeners.js';
import type { Logger } from '../shared/logger.js';
import { TcpConnection, type SocketFrameHandler, type TcpConnectionLimits } from './tcp-connection.js';

/** The listener could not bind its address (in use, not local, no permission). */
export class ListenError extends RinglogError {
  constructor(message: string, cause: unknown) {
    super('ERR_LISTEN', message, { cause });
  }
}

export class TcpListener {
  readonly #server: Server;
  readonly #connections = new Set<TcpConnection>();
  #address: HostPort;

  private constructor(server: Server, bind: HostPort) {
    this.#server = server;
    this.#address = bind;
  }

  /** Binds `bind` (an empty host: every interface) and serves every client that connects. */
  static async start(bind: HostPort, handle: SocketFrameHandler, limits: TcpConnectionLimits, logger: Logger): Promise<TcpListener> {
    const server = createServer({ noDelay: true });
    const listener = new TcpListener(server, bind);
    server.on('connection', (socket: Socket) => {
      const connection = new TcpConnection(socket, handle, limits, logger);
      listener.#connections.add(connection);
      void connection.closed.then(() => listener.#connections.delete(connection));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new ListenError(`cannot listen on ${bind.host || '*'}:${bind.port}: ${error.message}`, error)));
      server.listen({ host: bind.host === '' ? undefined : bind.host, port: bind.port }, () => resolve());
    });
    server.on('error', (error) => logger.error({ err: error }, 'listener error'));
    const bound = server.address();
    if (typeof bound === 'object' && bound !== null) listener.#address = { host: bound.address, port: bound.port };
    return listener;
  }

  /** The address actually bound (port 0 resolved). */
  get address(): HostPort {
    return this.#address;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Bytes held for request frames not yet whole, over all connections. */
  get bufferedBytes(): number {
    let n = 0;
    for (const c of this.#connections) n += c.bufferedBytes;
    return n;
  }

  /** Connections not being read now (back-pressure). */
  get readPausedCount(): number {
    let n = 0;
    for (const c of this.#connections) if (c.readPaused) n++;
    return n;
  }

  /** Stops accepting; each connection stops reading, sends what it owes (within timeoutMs), closes. */
  async close(timeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await Promise.all([...this.#connections].map((c) => c.drainAndClose(timeoutMs)));
    await closed;
  }
}
