import { connect, type Socket } from 'node:net';
import { FrameReader } from '../../src/shared/frame-reader.js';
import { parseHostPorts } from '../../src/shared/listeners.js';
import { decodeResponse, encodeRequest, type Body } from '../../src/shared/protocol/index.js';

/**
 * A bare TCP client for tests: writes whatever bytes it is given and collects the response frames
 * the broker sends back, so tests see exactly what is on the wire.
 */
export class RawSocket {
  readonly socket: Socket;
  readonly frames: Buffer[] = [];
  readonly closed: Promise<void>;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    const reader = new FrameReader(0x7fffffff);
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk, (frame) => this.frames.push(Buffer.from(frame)));
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => { resolve(); for (const w of this.#waiters.splice(0)) w(); }));
  }

  static async open(address: string): Promise<RawSocket> {
    const [{ host, port }] = parseHostPorts(address) as [{ host: string; port: number }];
    const socket = connect({ host, port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawSocket(socket);
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  request(apiKey: number, apiVersion: number, correlationId: number, body: Body): void {
    this.write(encodeRequest({ apiKey, apiVersion, correlationId, clientId: 'raw' }, body));
  }

  /** Waits (at most timeoutMs) until `count` frames arrived; fails if the socket closes first. */
  async frameCount(count: number, timeoutMs = 5_000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      if (this.socket.destroyed) throw new Error(`closed after ${this.frames.length} of ${count} frames`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.frames.length} of ${count} frames within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return this.frames.slice(0, count);
  }

  /** Resolves true once the broker closed the connection, false if it did not within timeoutMs. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([this.closed.then(() => true), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); })]);
    clearTimeout(timer);
    return result;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Decodes a response frame (size prefix included). */
export function decoded(apiKey: number, apiVersion: number, frame: Buffer): { correlationId: number; body: Body } {
  return decodeResponse(apiKey, apiVersion, frame.subarray(4));
}
