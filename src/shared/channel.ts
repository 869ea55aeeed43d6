/**
 * Channel: a single-producer single-consumer ring of length-framed messages between two threads,
 * built on ringbuf.js over a SharedArrayBuffer, with the doorbell ringbuf.js lacks (see layout.ts).
 *
 * Exactly one thread writes (ChannelWriter) and exactly one reads (ChannelReader); neither may
 * hand its role to another thread. Frames are committed whole, so the reader never sees half a
 * message. Nothing spins: a reader with nothing to read sleeps (Atomics.wait in a worker,
 * Atomics.waitAsync on the main thread), and so does a writer facing a full ring, each bounded by
 * a timeout that ends in a named TimeoutError.
 */
import { RingBuffer } from 'ringbuf.js';
import { ChannelClosedError, FrameTooLargeError, IllegalStateError, TimeoutError } from './errors.js';
import { copyFromShared, copyToShared } from './shared-copy.js';
import { CHANNEL_CONTROL_BYTES, ChannelSlot, ClosedFlag, FRAME_HEADER_BYTES, RINGBUF_HEADER_BYTES, RingIndexSlot } from './layout.js';

/** The structured-cloneable description of a channel: post it to the other thread. */
export interface ChannelHandle {
  readonly ring: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
}

export const DEFAULT_CHANNEL_CAPACITY_BYTES = 1 << 20;
export const DEFAULT_CHANNEL_TIMEOUT_MS = 30_000;
const EMPTY = new Uint8Array(0);

/** Most bytes a corked writer holds back before publishing them. */
const MAX_STAGE_BYTES = 64 * 1024;
/** Larger frames are written straight into the ring even while corked. */
const MAX_STAGED_FRAME_BYTES = 4 * 1024;

export type WaitResult = 'ready' | 'timed-out' | 'closed';

/**
 * Called once per frame with a view into the reader's staging buffer. The view stays valid until
 * the reader's next poll(), which may overwrite it: copy the bytes to keep them longer.
 */
export type FrameHandler = (bytes: Uint8Array, offset: number, length: number) => void;

/**
 * ringbuf.js's RingBuffer, copying with a memcpy (shared-copy.ts: TypedArray.set, kept word-wise at
 * any alignment) where the original copies element by element whenever the read or write index is
 * not at 0. Indices, capacity and semantics are ringbuf.js's own; only the copy is faster. (`_copy`
 * and `storage` are private in its typings, hence the casts.)
 */
const FastRingBuffer = class extends (RingBuffer as unknown as new (sab: SharedArrayBuffer, type: typeof Uint8Array) => object) {
  _copy(input: Uint8Array, inputOffset: number, output: Uint8Array, outputOffset: number, size: number): void {
    if (size === 0) return;
    const src = input.subarray(inputOffset, inputOffset + size);
    if (input === (this as unknown as { storage: Uint8Array }).storage) copyFromShared(src, output, outputOffset);
    else copyToShared(src, output, outputOffset);
  }
} as unknown as typeof RingBuffer;

export function createChannel(options: { capacityBytes?: number } = {}): ChannelHandle {
  const capacityBytes = options.capacityBytes ?? DEFAULT_CHANNEL_CAPACITY_BYTES;
  if (!Number.isInteger(capacityBytes) || capacityBytes < 64) {
    throw new RangeError(`channel capacityBytes must be an integer >= 64, got ${capacityBytes}`);
  }
  return {
    ring: RingBuffer.getStorageForCapacity(capacityBytes, Uint8Array),
    control: new SharedArrayBuffer(CHANNEL_CONTROL_BYTES),
  };
}

/** Wakes whoever sleeps on `seqSlot` if it raised `flagSlot`. Returns whether it woke someone. */
function ring(control: Int32Array, flagSlot: number, seqSlot: number): boolean {
  if (Atomics.load(control, flagSlot) === 1 && Atomics.compareExchange(control, flagSlot, 1, 0) === 1) {
    Atomics.add(control, seqSlot, 1);
    Atomics.notify(control, seqSlot);
    return true;
  }
  return false;
}

/** The reader's doorbell for a writer waiting for room: rung only once the room it wants is free. */
function ringForSpace(control: Int32Array, ringBuffer: RingBuffer): void {
  if (Atomics.load(control, ChannelSlot.WRITER_WAITING) === 1 && ringBuffer.availableWrite() >= Atomics.load(control, ChannelSlot.SPACE_WANTED)) {
    ring(control, ChannelSlot.WRITER_WAITING, ChannelSlot.SPACE_SEQ);
  }
}

function bump(control: Int32Array, seqSlot: number): void {
  Atomics.add(control, seqSlot, 1);
  Atomics.notify(control, seqSlot);
}

function keepAlive(): void {}

async function sleepAsync(control: Int32Array, seqSlot: number, seq: number, timeoutMs: number): Promise<void> {
  const result = Atomics.waitAsync(control, seqSlot, seq, timeoutMs);
  if (!result.async) return;
  // A pending waitAsync does not keep the thread's event loop alive; without this timer a thread
  // with nothing else to do would exit in the middle of the wait.
  const timer = setTimeout(keepAlive, timeoutMs);
  try {
    await result.value;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sleeps until `ready()` holds, the deadline passes, or `closed()` holds; the sleeper's half of
 * the doorbell protocol in layout.ts. `sleep` is Atomics.wait or Atomics.waitAsync.
 */
function sleepUntilSync(
  control: Int32Array, flagSlot: number, seqSlot: number, deadlineMs: number,
  ready: () => boolean, closed: () => boolean,
): WaitResult {
  for (;;) {
    if (ready()) return 'ready';
    if (closed()) return 'closed';
    const remainingMs = deadlineMs - performance.now();
    if (remainingMs <= 0) return 'timed-out';
    const seq = Atomics.load(control, seqSlot);
    Atomics.store(control, flagSlot, 1);
    if (!ready() && !closed()) Atomics.wait(control, seqSlot, seq, remainingMs);
    Atomics.store(control, flagSlot, 0);
  }
}

async function sleepUntilAsync(
  control: Int32Array, flagSlot: number, seqSlot: number, deadlineMs: number,
  ready: () => boolean, closed: () => boolean,
): Promise<WaitResult> {
  for (;;) {
    if (ready()) return 'ready';
    if (closed()) return 'closed';
    const remainingMs = deadlineMs - performance.now();
    if (remainingMs <= 0) return 'timed-out';
    const seq = Atomics.load(control, seqSlot);
    Atomics.store(control, flagSlot, 1);
    if (!ready() && !closed()) await sleepAsync(control, seqSlot, seq, remainingMs);
    Atomics.store(control, flagSlot, 0);
  }
}

export class ChannelWriter {
  readonly #ring: RingBuffer;
  readonly #control: Int32Array;
  /** Largest payload a frame can carry: the ring's usable bytes minus the length prefix. */
  readonly maxPayloadBytes: number;
  // The frame being committed, read by #fill (one bound callback, no closure per write).
  #a: Uint8Array = new Uint8Array(0);
  #aOffset = 0;
  #aLength = 0;
  #b: Uint8Array | null = null;
  readonly #storageView: DataView;
  /** Ring bytes known to be free and not reserved by the stage: a lower bound, see #tryCommit. */
  #freeBytes = 0;
  // Corked frames: written here, in ring space already reserved, and published with one index store.
  #corkDepth = 0;
  #stage: Uint8Array | null = null;
  #stageView: DataView | null = null;
  #staged = 0;
  /** Frames were published while corked and the reader not yet woken for them. */
  #wakePending = false;
  readonly #fill: Parameters<RingBuffer['writeCallbackWithOffset']>[1];
  readonly #fillRaw: Parameters<RingBuffer['writeCallbackWithOffset']>[1];

  constructor(handle: ChannelHandle) {
    this.#ring = new FastRingBuffer(handle.ring, Uint8Array);
    this.#control = new Int32Array(handle.control);
    this.maxPayloadBytes = this.#ring.capacity() - FRAME_HEADER_BYTES;
    // The ring was created over Uint8Array, so its storage is one.
    this.#fill = (storage, o1, n1, o2) => this.#copyFrame(storage as Uint8Array, o1, n1, o2);
    this.#fillRaw = (storage, o1, n1, o2) => copyAt(storage as Uint8Array, o1, n1, o2, 0, this.#a.subarray(0, this.#aLength));
    // ringbuf.js's storage starts after its two 4-byte indices.
    this.#storageView = new DataView(handle.ring, RINGBUF_HEADER_BYTES);
  }

  /** True once either side closed the channel. */
  get closed(): boolean {
    return Atomics.load(this.#control, ChannelSlot.CLOSED) !== 0;
  }

  /**
   * Writes one frame if the ring has room for it, without waiting. Returns false when it does
   * not fit right now. Throws FrameTooLargeError if it can never fit, ChannelClosedError if closed.
   */
  tryWrite(payload: Uint8Array, offset = 0, length = payload.length - offset): boolean {
    return this.#tryCommit(payload, offset, length, null);
  }

  /** Like tryWrite, for a frame whose payload is `head` followed by `body` (no concatenation). */
  tryWrite2(head: Uint8Array, body: Uint8Array): boolean {
    return this.#tryCommit(head, 0, head.length, body);
  }

  /** Writes one frame, waiting asynchronously (Atomics.waitAsync) for room up to timeoutMs. */
  write(payload: Uint8Array, timeoutMs = DEFAULT_CHANNEL_TIMEOUT_MS): Promise<void> {
    return this.write2(payload, EMPTY, timeoutMs);
  }

  /** Like write, for a frame of head + body. */
  async write2(head: Uint8Array, body: Uint8Array, timeoutMs = DEFAULT_CHANNEL_TIMEOUT_MS): Promise<void> {
    if (this.tryWrite2(head, body)) return;
    await this.waitForRoom(FRAME_HEADER_BYTES + head.length + body.length, timeoutMs);
    if (!this.tryWrite2(head, body)) throw new IllegalStateError('channel: room vanished; is a second thread writing?');
  }

  /**
   * Resolves once at least `bytes` of the ring are free (held-back corked frames are published
   * first), waiting asynchronously up to timeoutMs. A bulk writer that waits for much room at a
   * time is woken once per that much, not once per frame the reader takes.
   */
  async waitForRoom(bytes: number, timeoutMs = DEFAULT_CHANNEL_TIMEOUT_MS): Promise<void> {
    this.#publishAndWake(); // the reader must see everything to make room, corked or not
    const need = this.#wantRoom(bytes);
    const result = await sleepUntilAsync(
      this.#control, ChannelSlot.WRITER_WAITING, ChannelSlot.SPACE_SEQ, performance.now() + timeoutMs,
      () => this.#ring.availableWrite() >= need, () => this.closed,
    );
    this.#afterWait(result, timeoutMs);
  }

  /** Writes one frame, blocking the thread (Atomics.wait) for room up to timeoutMs. Workers only. */
  writeSync(payload: Uint8Array, timeoutMs = DEFAULT_CHANNEL_TIMEOUT_MS): void {
    this.writeSync2(payload, EMPTY, timeoutMs);
  }

  /** Like writeSync, for a frame of head + body. */
  writeSync2(head: Uint8Array, body: Uint8Array, timeoutMs = DEFAULT_CHANNEL_TIMEOUT_MS): void {
    if (this.tryWrite2(head, body)) return;
    const need = this.#wantRoom(FRAME_HEADER_BYTES + head.length + body.length);
    const result = sleepUntilSync(
      this.#control, ChannelSlot.WRITER_WAITING, ChannelSlot.SPACE_SEQ, performance.now() + timeoutMs,
      () => this.#ring.availableWrite() >= need, () => this.closed,
    );
    this.#afterWait(result, timeoutMs);
    if (!this.tryWrite2(head, body)) throw new IllegalStateError('channel: room vanished; is a second thread writing?');
  }

  /** Resolves once the reader has taken every frame written so far. */
  async drain(timeoutMs = DEFAULT_CHANNEL_TIMEOUT_MS): Promise<void> {
    this.#publishAndWake();
    this.#wantRoom(this.#ring.capacity()); // an empty ring is a wholly free one
    const result = await sleepUntilAsync(
      this.#control, ChannelSlot.WRITER_WAITING, ChannelSlot.SPACE_SEQ, performance.now() + timeoutMs,
      () => this.#ring.availableRead() === 0,
      () => (Atomics.load(this.#control, ChannelSlot.CLOSED) & ClosedFlag.CLOSED_BY_READER) !== 0,
    );
    if (result === 'timed-out') {
      throw new TimeoutError('ERR_CHANNEL_DRAIN_TIMEOUT', `channel: reader did not take ${this.#ring.availableRead()} pending bytes`, timeoutMs);
    }
    if (result === 'closed') throw new ChannelClosedError('channel: reader closed before draining');
  }

  /**
   * Batches frames, as Node streams' cork(): until the matching uncork(), accepted frames are
   * held back and published together, a stage (up to 64 KiB) at a time, so the reader is not
   * woken and the ring's indices not touched once per frame. A corked frame is accepted only
   * if ring space is free for it, so publishing never fails.
   */
  cork(): void {
    this.#corkDepth++;
    if (this.#stage === null) {
      this.#stage = new Uint8Array(Math.min(MAX_STAGE_BYTES, this.maxPayloadBytes + FRAME_HEADER_BYTES));
      this.#stageView = new DataView(this.#stage.buffer);
    }
  }

  /** Ends one cork(); the outermost publishes whatever is held back. */
  uncork(): void {
    if (this.#corkDepth === 0) return;
    if (--this.#corkDepth === 0) this.#publishStage();
  }

  /** No more frames will be written. The reader still gets every frame already written. */
  close(): void {
    this.#publishAndWake();
    Atomics.or(this.#control, ChannelSlot.CLOSED, ClosedFlag.CLOSED_BY_WRITER);
    bump(this.#control, ChannelSlot.DATA_SEQ);
  }

  /** Tells the reader how much room the coming wait is for (at most the whole ring); returns it. */
  #wantRoom(bytes: number): number {
    const need = Math.min(bytes, this.#ring.capacity());
    Atomics.store(this.#control, ChannelSlot.SPACE_WANTED, need);
    return need;
  }

  #afterWait(result: WaitResult, timeoutMs: number): void {
    if (result === 'timed-out') throw new TimeoutError('ERR_CHANNEL_WRITE_TIMEOUT', 'channel: no room for a frame; the reader is not keeping up', timeoutMs);
    if (result === 'closed') throw new ChannelClosedError('channel: closed while waiting for room');
  }

  #tryCommit(a: Uint8Array, aOffset: number, aLength: number, b: Uint8Array | null): boolean {
    const payloadLength = aLength + (b === null ? 0 : b.length);
    if (payloadLength > this.maxPayloadBytes) {
      throw new FrameTooLargeError(`channel: a ${payloadLength}-byte message cannot fit a ring of ${this.maxPayloadBytes} payload bytes`);
    }
    if (Atomics.load(this.#control, ChannelSlot.CLOSED) !== 0) {
      throw new ChannelClosedError('channel: closed, cannot write');
    }
    const total = FRAME_HEADER_BYTES + payloadLength;
    // Only the reader frees room, so a cached count can only be too low: re-read it when short.
    if (this.#freeBytes < total) {
      this.#freeBytes = this.#ring.availableWrite() - this.#staged;
      if (this.#freeBytes < total) {
        this.#publishAndWake(); // let the reader see what is held back, so room can appear
        return false;
      }
    }
    this.#freeBytes -= total;
    // Staging pays a copy to save an index store; only small frames gain from that.
    if (this.#corkDepth > 0 && total <= MAX_STAGED_FRAME_BYTES) {
      if (this.#staged + total > this.#stage!.length) this.#publishStage();
      this.#stageFrame(a, aOffset, aLength, b, payloadLength);
      return true;
    }
    this.#publishStage();
    this.#a = a;
    this.#aOffset = aOffset;
    this.#aLength = aLength;
    this.#b = b;
    this.#ring.writeCallbackWithOffset(total, this.#fill);
    this.#b = null;
    this.#wakePending = true;
    if (this.#corkDepth === 0) this.#wakeReader();
    return true;
  }

  #stageFrame(a: Uint8Array, aOffset: number, aLength: number, b: Uint8Array | null, payloadLength: number): void {
    const stage = this.#stage!;
    this.#stageView!.setUint32(this.#staged, payloadLength, true);
    let pos = this.#staged + FRAME_HEADER_BYTES;
    stage.set(aOffset === 0 && aLength === a.length ? a : a.subarray(aOffset, aOffset + aLength), pos);
    pos += aLength;
    if (b !== null) {
      stage.set(b, pos);
      pos += b.length;
    }
    this.#staged = pos;
  }

  /**
   * Publishes the staged frames with one index store (their ring space was reserved). The reader
   * is woken now, or, while corked, once at the outermost uncork: a wake that finds the reader
   * asleep costs tens of microseconds on a VM, so a corked turn pays for one.
   */
  #publishStage(): void {
    if (this.#staged > 0) {
      const staged = this.#staged;
      this.#a = this.#stage!;
      this.#aOffset = 0;
      this.#aLength = staged;
      this.#b = null;
      this.#staged = 0;
      this.#ring.writeCallbackWithOffset(staged, this.#fillRaw);
      this.#wakePending = true;
    }
    if (this.#wakePending && this.#corkDepth === 0) this.#wakeReader();
  }

  /** Publishes and wakes the reader now, even while corked: it must see everything (full ring, drain, close). */
  #publishAndWake(): void {
    this.#publishStage();
    if (this.#wakePending) this.#wakeReader();
  }

  #wakeReader(): void {
    this.#wakePending = false;
    ring(this.#control, ChannelSlot.READER_SLEEPING, ChannelSlot.DATA_SEQ);
  }

  /** Copies the pending frame into ring storage, across the wrap point if it falls inside. */
  #copyFrame(storage: Uint8Array, o1: number, n1: number, o2: number): number {
    const payloadLength = this.#aLength + (this.#b === null ? 0 : this.#b.length);
    // Length prefix, little-endian; byte by byte only when it straddles the wrap.
    if (n1 >= FRAME_HEADER_BYTES) {
      this.#storageView.setUint32(o1, payloadLength, true);
    } else {
      for (let pos = 0, shift = 0; pos < FRAME_HEADER_BYTES; pos++, shift += 8) {
        storage[pos < n1 ? o1 + pos : o2 + pos - n1] = (payloadLength >>> shift) & 0xff;
      }
    }
    let pos = FRAME_HEADER_BYTES;
    const a = this.#aOffset === 0 && this.#aLength === this.#a.length ? this.#a : this.#a.subarray(this.#aOffset, this.#aOffset + this.#aLength);
    pos = copyAt(storage, o1, n1, o2, pos, a);
    if (this.#b !== null) pos = copyAt(storage, o1, n1, o2, pos, this.#b);
    return pos;
  }
}

/** A frame's little-endian length prefix at `at`, which may straddle the ring's end. */
function readLength(storage: Uint8Array, at: number): number {
  let length = 0;
  for (let i = 0, shift = 0; i < FRAME_HEADER_BYTES; i++, shift += 8) length |= storage[(at + i) % storage.length]! << shift;
  return length >>> 0;
}

const pollStaged = (reader: ChannelReader, onFrame: FrameHandler): number => reader.poll(onFrame);

/** Copies `src` to logical position `pos` of a write region split as [o1, o1+n1) then [o2, ...). */
function copyAt(storage: Uint8Array, o1: number, n1: number, o2: number, pos: number, src: Uint8Array): number {
  const len = src.length;
  if (pos + len <= n1) {
    copyToShared(src, storage, o1 + pos);
  } else if (pos >= n1) {
    copyToShared(src, storage, o2 + pos - n1);
  } else {
    const first = n1 - pos;
    copyToShared(src.subarray(0, first), storage, o1 + pos);
    copyToShared(src.subarray(first), storage, o2);
  }
  return pos + len;
}

export class ChannelReader {
  readonly #ring: RingBuffer;
  readonly #control: Int32Array;
  // Frames popped from the ring but not yet handed out: staging[#start, #end).
  readonly #staging: Uint8Array;
  readonly #stagingView: DataView;
  #start = 0;
  #end = 0;
  #polling = false;
  // pollInPlace's direct view of the ring: its indices and storage (ringbuf.js's layout, layout.ts).
  readonly #indices: Uint32Array;
  readonly #storage: Uint8Array;
  /** Ring bytes handed out by pollInPlace and not yet given back by release(). */
  #heldBytes = 0;

  constructor(handle: ChannelHandle) {
    this.#ring = new FastRingBuffer(handle.ring, Uint8Array);
    this.#control = new Int32Array(handle.control);
    this.#staging = new Uint8Array(this.#ring.capacity());
    this.#stagingView = new DataView(this.#staging.buffer);
    this.#indices = new Uint32Array(handle.ring, 0, 2);
    this.#storage = new Uint8Array(handle.ring, RINGBUF_HEADER_BYTES);
  }

  /** True when a frame is waiting to be read (frames held by pollInPlace do not count). */
  get hasFrames(): boolean {
    return this.#start < this.#end || this.#ring.availableRead() > this.#heldBytes;
  }

  /**
   * Like poll, but without copying: hands frames as views straight into the ring's storage, about
   * maxBytes of them (at least one), and keeps their space taken until release(). For a reader
   * that passes the bytes on (the log writer's writev) and would otherwise copy them twice. The
   * one frame per lap that wraps around the ring's end is copied whole into the staging buffer.
   * Call release() before the next pollInPlace and before waiting; do not mix with poll().
   */
  pollInPlace(onFrame: FrameHandler, maxBytes: number): number {
    if (this.#polling) throw new IllegalStateError('channel: pollInPlace() called from inside its own frame handler');
    if (this.#heldBytes > 0) throw new IllegalStateError('channel: pollInPlace() called before release()');
    if (this.#start < this.#end) throw new IllegalStateError('channel: pollInPlace() called with frames left by poll()');
    const storage = this.#storage;
    const size = storage.length;
    const readIndex = Atomics.load(this.#indices, RingIndexSlot.READ);
    const available = (Atomics.load(this.#indices, RingIndexSlot.WRITE) - readIndex + size) % size;
    this.#polling = true;
    let count = 0;
    try {
      while (this.#heldBytes < available && (count === 0 || this.#heldBytes < maxBytes)) {
        const at = (readIndex + this.#heldBytes) % size;
        const length = readLength(storage, at);
        if (this.#heldBytes + FRAME_HEADER_BYTES + length > available) {
          throw new IllegalStateError(`channel: torn frame (${length} bytes at ${at}); is a second thread writing?`);
        }
        const payloadAt = (at + FRAME_HEADER_BYTES) % size;
        this.#heldBytes += FRAME_HEADER_BYTES + length;
        count++;
        if (payloadAt + length <= size) {
          onFrame(storage, payloadAt, length);
        } else {
          const first = size - payloadAt;
          copyFromShared(storage.subarray(payloadAt), this.#staging, 0);
          copyFromShared(storage.subarray(0, length - first), this.#staging, first);
          onFrame(this.#staging, 0, length);
        }
      }
      return count;
    } finally {
      this.#polling = false;
    }
  }

  /** Gives the ring space of the frames pollInPlace handed out back to the writer. */
  release(): void {
    if (this.#heldBytes === 0) return;
    const size = this.#storage.length;
    Atomics.store(this.#indices, RingIndexSlot.READ, (Atomics.load(this.#indices, RingIndexSlot.READ) + this.#heldBytes) % size);
    this.#heldBytes = 0;
    ringForSpace(this.#control, this.#ring);
  }

  /** True when the writer closed the channel and every frame has been read. */
  get closedAndDrained(): boolean {
    return (Atomics.load(this.#control, ChannelSlot.CLOSED) & ClosedFlag.CLOSED_BY_WRITER) !== 0 && !this.hasFrames;
  }

  /**
   * Hands every frame available now to `onFrame`, in order, without waiting; returns how many.
   * If `onFrame` throws, that frame counts as read, the rest stay for the next poll, and the
   * error propagates.
   */
  poll(onFrame: FrameHandler): number {
    if (this.#polling) throw new IllegalStateError('channel: poll() called from inside its own frame handler');
    if (this.#heldBytes > 0) throw new IllegalStateError('channel: poll() called before release()');
    this.#polling = true;
    try {
      if (this.#start === this.#end) {
        this.#start = 0;
        this.#end = this.#ring.pop(this.#staging);
        if (this.#end === 0) return 0;
        // Room was made: wake a writer waiting for it before handling what we took.
        ringForSpace(this.#control, this.#ring);
      }
      let count = 0;
      while (this.#start < this.#end) {
        const length = this.#stagingView.getUint32(this.#start, true);
        const payloadStart = this.#start + FRAME_HEADER_BYTES;
        if (payloadStart + length > this.#end) {
          throw new IllegalStateError(`channel: torn frame (${length} bytes at ${this.#start}); is a second thread writing?`);
        }
        this.#start = payloadStart + length;
        count++;
        onFrame(this.#staging, payloadStart, length);
      }
      return count;
    } finally {
      this.#polling = false;
    }
  }

  /** Blocks the thread (Atomics.wait) until a frame arrives, the channel closes, or timeoutMs. */
  waitSync(timeoutMs: number): WaitResult {
    return sleepUntilSync(
      this.#control, ChannelSlot.READER_SLEEPING, ChannelSlot.DATA_SEQ, performance.now() + timeoutMs,
      () => this.hasFrames, () => this.closedAndDrained,
    );
  }

  /**
   * Hands every frame to onFrame as it arrives, sleeping in Atomics.waitAsync in between (waking at
   * least every idleSliceMs); resolves once the writer closed and every frame was read. `poll`
   * takes what is there (ring-read.ts's pollThrough reads it in place).
   */
  async readUntilClosed(onFrame: FrameHandler, idleSliceMs = 1_000, poll: (reader: ChannelReader, onFrame: FrameHandler) => number = pollStaged): Promise<void> {
    for (;;) {
      if (poll(this, onFrame) > 0) continue;
      if ((await this.waitAsync(idleSliceMs)) === 'closed') return;
    }
  }

  /** Waits without blocking the event loop (Atomics.waitAsync) for a frame, close, or timeoutMs. */
  waitAsync(timeoutMs: number): Promise<WaitResult> {
    return sleepUntilAsync(
      this.#control, ChannelSlot.READER_SLEEPING, ChannelSlot.DATA_SEQ, performance.now() + timeoutMs,
      () => this.hasFrames, () => this.closedAndDrained,
    );
  }

  /** The reader is going away: a writer waiting for room, or writing later, gets ChannelClosedError. */
  close(): void {
    Atomics.or(this.#control, ChannelSlot.CLOSED, ClosedFlag.CLOSED_BY_READER);
    bump(this.#control, ChannelSlot.SPACE_SEQ);
  }
}
