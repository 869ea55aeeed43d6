/**
 * Cuts a byte stream into Kafka frames (int32 size, then that many bytes), as Kafka's
 * NetworkReceive does. The size is checked before anything is allocated for the frame: a negative
 * size or one above the limit is an InvalidFrameError, and the connection must be closed. A frame
 * that arrived within one chunk is handed out as a view of that chunk; one spread over chunks is
 * copied once, when its last byte is in, so memory follows the bytes received, never a claimed size.
 */
import { RinglogError } from './errors.js';

/** A frame size that Kafka would refuse (InvalidReceiveException): close the connection. */
export class InvalidFrameError extends RinglogError {
  constructor(message: string) {
    super('ERR_INVALID_FRAME', message);
  }
}

const SIZE_BYTES = 4;

export class FrameReader {
  readonly #maxFrameBytes: number;
  /** The size prefix, while it is split across chunks. */
  readonly #sizeBytes = Buffer.alloc(SIZE_BYTES);
  #sizeHave = 0;
  /** The frame being gathered (size prefix included), -1 when none. */
  #frameBytes = -1;
  #parts: Buffer[] = [];
  #have = 0;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held for a frame not yet complete. */
  get bufferedBytes(): number {
    return this.#have + this.#sizeHave;
  }

  /** Feeds a chunk; calls onFrame with each whole frame (size prefix included), in order. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#frameBytes === -1) {
        if (this.#sizeHave === 0 && chunk.length - pos >= SIZE_BYTES) {
          const size = this.#checked(chunk.readInt32BE(pos));
          // Common case: the whole frame is in this chunk.
          if (chunk.length - pos >= SIZE_BYTES + size) {
            onFrame(chunk.subarray(pos, pos + SIZE_BYTES + size));
            pos += SIZE_BYTES + size;
            continue;
          }
          this.#frameBytes = SIZE_BYTES + size;
        } else {
          const take = Math.min(SIZE_BYTES - this.#sizeHave, chunk.length - pos);
          chunk.copy(this.#sizeBytes, this.#sizeHave, pos, pos + take);
          this.#sizeHave += take;
          pos += take;
          if (this.#sizeHave < SIZE_BYTES) return;
          this.#sizeHave = 0;
          this.#frameBytes = SIZE_BYTES + this.#checked(this.#sizeBytes.readInt32BE(0));
          this.#parts.push(Buffer.from(this.#sizeBytes));
          this.#have = SIZE_BYTES;
          if (this.#frameBytes === SIZE_BYTES) this.#complete(onFrame);
          continue;
        }
      }
      const take = Math.min(this.#frameBytes - this.#have, chunk.length - pos);
      this.#parts.push(chunk.subarray(pos, pos + take));
      this.#have += take;
      pos += take;
      if (this.#have === this.#frameBytes) this.#complete(onFrame);
    }
  }

  #complete(onFrame: (frame: Buffer) => void): void {
    const frame = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#frameBytes);
    this.#parts = [];
    this.#have = 0;
    this.#frameBytes = -1;
    onFrame(frame);
  }

  #checked(size: number): number {
    if (size < 0) throw new InvalidFrameError(`invalid frame size ${size}`);
    if (size > this.#maxFrameBytes) throw new InvalidFrameError(`frame size ${size} is larger than the limit of ${this.#maxFrameBytes} bytes (socket.request.max.bytes)`);
    return size;
  }
}
