/**
 * The requests on one client connection that await their answers, matched by correlation id (the
 * int32 after the size prefix in a response, after api key and version in a request), each failed
 * by its own timeout. Shared by the embedded and the TCP transports. One event-loop thread.
 */
import { ProtocolError, TimeoutError } from '../shared/errors.js';

const REQUEST_CORRELATION_OFFSET = 8;
const RESPONSE_CORRELATION_OFFSET = 4;

interface Pending {
  resolve: (frame: Uint8Array) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** The correlation id of a response frame, size prefix included. */
export function responseCorrelationIdOf(bytes: Uint8Array, offset = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset + offset + RESPONSE_CORRELATION_OFFSET, 4).getInt32(0);
}

export class PendingRequests {
  readonly #pending = new Map<number, Pending>();
  readonly #peer: string;

  /** `peer` names the other end in timeout messages. */
  constructor(peer: string) {
    this.#peer = peer;
  }

  get size(): number {
    return this.#pending.size;
  }

  /**
   * Registers the request `frame` (size prefix included), then calls `send`; resolves with its
   * answer, or rejects with what `send` threw, with ERR_REQUEST_TIMEOUT after timeoutMs, or with
   * what failAll is given.
   */
  add(frame: Uint8Array, timeoutMs: number, send: () => void): Promise<Uint8Array> {
    const correlationId = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getInt32(REQUEST_CORRELATION_OFFSET);
    if (this.#pending.has(correlationId)) return Promise.reject(new ProtocolError(`correlation id ${correlationId} is already in flight on this connection`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(correlationId);
        reject(new TimeoutError('ERR_REQUEST_TIMEOUT', `no response from ${this.#peer} to correlation id ${correlationId}`, timeoutMs));
      }, timeoutMs);
      this.#pending.set(correlationId, { resolve, reject, timer });
      try {
        send();
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(correlationId);
        reject(error as Error);
      }
    });
  }

  /** The resolver of the request `correlationId` answers, or undefined when none waits (it timed out). */
  settle(correlationId: number): ((frame: Uint8Array) => void) | undefined {
    const pending = this.#pending.get(correlationId);
    if (pending === undefined) return undefined;
    this.#pending.delete(correlationId);
    clearTimeout(pending.timer);
    return pending.resolve;
  }

  failAll(error: Error): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(error);
    }
  }
}
