/**
 * OrderedWriter: writes head+body frames to a channel from an event-loop thread without ever
 * blocking it, reordering, or growing without bound. A frame goes straight into the ring when
 * nothing is waiting ahead of it; otherwise it joins a backlog (copied) that an async flusher
 * moves into the ring as room appears. Past maxBacklogBytes, write() refuses the frame.
 * Frames written in one turn of the event loop are corked and published together when the turn's
 * microtasks run, so a burst of messages costs one wake-up, not one per message.
 */
import { ChannelWriter } from './channel.js';
import { FRAME_HEADER_BYTES } from './layout.js';

export const DEFAULT_MAX_BACKLOG_BYTES = 8 << 20;

export class OrderedWriter {
  readonly #writer: ChannelWriter;
  readonly #maxBacklogBytes: number;
  readonly #flushTimeoutMs: number;
  readonly #onFlushError: (error: unknown) => void;
  #backlog: Uint8Array[] = [];
  #backlogBytes = 0;
  #flushing: Promise<void> | null = null;
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#writer.uncork();
  };

  constructor(writer: ChannelWriter, options: { maxBacklogBytes?: number; flushTimeoutMs: number; onFlushError: (error: unknown) => void }) {
    this.#writer = writer;
    this.#maxBacklogBytes = options.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES;
    this.#flushTimeoutMs = options.flushTimeoutMs;
    this.#onFlushError = options.onFlushError;
  }

  get backlogBytes(): number {
    return this.#backlogBytes;
  }

  /** Returns false, writing nothing, when the backlog is full. Throws if the channel is closed. */
  write(head: Uint8Array, body: Uint8Array): boolean {
    if (this.tryWrite(head, body)) return true;
    const size = head.length + body.length;
    if (size > this.#writer.maxPayloadBytes) this.#writer.tryWrite2(head, body); // throws FrameTooLargeError
    if (this.#backlogBytes + size > this.#maxBacklogBytes) return false;
    const frame = new Uint8Array(size);
    frame.set(head, 0);
    frame.set(body, head.length);
    this.#backlog.push(frame);
    this.#backlogBytes += size;
    this.#flushing ??= this.#flush();
    return true;
  }

  /**
   * Writes the frame into the ring if nothing waits ahead of it and there is room now; never
   * copies it into the backlog. Returns false, writing nothing, otherwise.
   */
  tryWrite(head: Uint8Array, body: Uint8Array): boolean {
    if (!this.#corked) {
      this.#corked = true;
      this.#writer.cork();
      queueMicrotask(this.#uncork);
    }
    return this.#backlog.length === 0 && this.#writer.tryWrite2(head, body);
  }

  /**
   * Writes a frame in order, waiting (asynchronously) for room instead of copying it into the
   * backlog: for bulk senders, which should slow down rather than buffer. Once the ring is full it
   * waits until `resumeBytes` (at least the frame) are free, so a sender that outruns the reader
   * is woken once per that much. The frame is in the ring when this resolves, so the caller may
   * reuse its buffers then.
   */
  async writeAsync(head: Uint8Array, body: Uint8Array, resumeBytes = 0): Promise<void> {
    const frameBytes = FRAME_HEADER_BYTES + head.length + body.length;
    while (!this.tryWrite(head, body)) {
      await this.flushed();
      await this.#writer.waitForRoom(Math.max(frameBytes, resumeBytes), this.#flushTimeoutMs);
    }
  }

  /** Resolves once the backlog is in the ring. */
  async flushed(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  /** Drops the backlog (the channel is going away). */
  discard(): Uint8Array[] {
    const dropped = this.#backlog;
    this.#backlog = [];
    this.#backlogBytes = 0;
    return dropped;
  }

  async #flush(): Promise<void> {
    try {
      while (this.#backlog.length > 0) {
        const frame = this.#backlog[0]!;
        await this.#writer.write(frame, this.#flushTimeoutMs);
        // discard() may have emptied the backlog while we waited.
        if (this.#backlog[0] === frame) {
          this.#backlog.shift();
          this.#backlogBytes -= frame.length;
        }
      }
    } catch (error) {
      this.#onFlushError(error);
    } finally {
      this.#flushing = null;
    }
  }
}
