/**
 * Shared-memory layouts, declared once. No other file indexes a SharedArrayBuffer by a bare number.
 *
 * A channel is two SharedArrayBuffers:
 *
 *   ring     ringbuf.js storage (its own header: write index at byte 0, read index at byte 4,
 *            then `capacity + 1` bytes of storage). Carries length-framed messages:
 *
 *              frame  = length:uint32 (little-endian, payload bytes) | payload
 *
 *            A frame is committed with a single write-index store, so the reader only ever sees
 *            whole frames.
 *
 *   control  an Int32Array of CHANNEL_CONTROL_SLOTS slots, each on its own 64-byte cache line
 *            so that the writer's and the reader's words never share a line:
 *
 *              DATA_SEQ         bumped by the writer to wake a sleeping reader
 *              READER_SLEEPING  1 while the reader is (about to be) asleep on DATA_SEQ
 *              SPACE_SEQ        bumped by the reader to wake a writer waiting for room
 *              WRITER_WAITING   1 while the writer is (about to be) asleep on SPACE_SEQ
 *              SPACE_WANTED     free ring bytes that sleeping writer waits for (on WRITER_WAITING's
 *                               line: the writer stores it before raising the flag)
 *              CLOSED           bit flags: CLOSED_BY_WRITER, CLOSED_BY_READER
 *
 * The doorbell protocol (no lost wake-ups): a sleeper reads its SEQ, raises its flag, re-checks
 * the ring, and only then waits on SEQ with the value it read. The other side publishes its ring
 * update first and then clears the flag with compareExchange; whoever clears it bumps SEQ and
 * notifies. All Atomics operations are sequentially consistent, so either the sleeper's re-check
 * sees the update or the publisher sees the flag. The reader rings for space only once
 * SPACE_WANTED bytes are free, so a writer that waits for much room is not woken for a little; it
 * is never more than the ring's capacity, which a reader that has taken everything always frees.
 */

/** Int32 slots per cache line (64 bytes / 4). */
const LINE_SLOTS = 16;

export const ChannelSlot = {
  DATA_SEQ: 0 * LINE_SLOTS,
  READER_SLEEPING: 1 * LINE_SLOTS,
  SPACE_SEQ: 2 * LINE_SLOTS,
  WRITER_WAITING: 3 * LINE_SLOTS,
  SPACE_WANTED: 3 * LINE_SLOTS + 1,
  CLOSED: 4 * LINE_SLOTS,
} as const;

export const CHANNEL_CONTROL_SLOTS = 5 * LINE_SLOTS;
export const CHANNEL_CONTROL_BYTES = CHANNEL_CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT;

/** Flags in the CLOSED slot. */
export const ClosedFlag = {
  CLOSED_BY_WRITER: 1,
  CLOSED_BY_READER: 2,
} as const;

/** ringbuf.js's own header in the ring buffer: write index, read index (uint32 each). */
export const RINGBUF_HEADER_BYTES = 8;

/** The ring header's two indices, as Uint32Array slots (ringbuf.js's layout, read in place by ChannelReader.pollInPlace). */
export const RingIndexSlot = {
  WRITE: 0,
  READ: 1,
} as const;

/** Bytes of the length prefix in front of every frame. */
export const FRAME_HEADER_BYTES = 4;

/**
 * The actor frame, carried as a channel frame's payload between an actor system and a worker host:
 *
 *   op:uint8 | actorId:uint32 | correlationId:uint32 | body
 *
 * (little-endian). correlationId is 0 for a tell. A REPLY_ERROR body is a UTF-8 JSON WireError.
 */
export const ActorFrame = {
  OP_OFFSET: 0,
  ACTOR_ID_OFFSET: 1,
  CORRELATION_ID_OFFSET: 5,
  HEADER_BYTES: 9,
} as const;

export const ActorOp = {
  TELL: 1,
  ASK: 2,
  REPLY: 3,
  REPLY_ERROR: 4,
} as const;
export type ActorOp = (typeof ActorOp)[keyof typeof ActorOp];

/**
 * Log writer frames (broker <-> log writer worker), little-endian, one per channel frame.
 *
 * broker -> log writer ("appends" channel):
 *   APPEND   op:uint8 | partitionId:uint32 | one offset-assigned RecordBatch (its header gives the
 *            offsets and max timestamp)
 *   CONTROL  op:uint8 | requestId:uint32 | UTF-8 JSON LogWriterCommand (rare: open, flush, close)
 *
 * log writer -> broker ("acks" channel):
 *   PROGRESS op:uint8 | partitionId:uint32 | writtenEndOffset:float64 | durableEndOffset:float64
 *            (every offset below writtenEndOffset is in the OS; below durableEndOffset, fsynced)
 *   REPLY    op:uint8 | requestId:uint32 | UTF-8 JSON result, or a WireError when ok is false
 *   DATA     op:uint8 | requestId:uint32 | whole RecordBatches read from the log (answers a `read`
 *            command; empty when the offset holds nothing)
 */
export const LogWriterOp = {
  APPEND: 1,
  CONTROL: 2,
  PROGRESS: 3,
  REPLY: 4,
  DATA: 5,
} as const;

export const LogWriterFrame = {
  OP_OFFSET: 0,
  ID_OFFSET: 1,
  APPEND_HEADER_BYTES: 5,
  CONTROL_HEADER_BYTES: 5,
  PROGRESS_WRITTEN_OFFSET: 5,
  PROGRESS_DURABLE_OFFSET: 13,
  PROGRESS_BYTES: 21,
} as const;

/**
 * Producer frames (main thread <-> its sender worker), little-endian, one per channel frame.
 *
 * main -> sender ("batches" channel):
 *   TOPIC  op:uint8 | topicIndex:uint32 | UTF-8 topic name (once per topic, before its batches)
 *   BATCH  op:uint8 | batchId:uint32 | topicIndex:uint32 | partition:uint32 |
 *          deliveryDeadlineMs:float64 | one RecordBatch v2 (records uncompressed; the sender
 *          compresses and stamps the producer id, epoch and sequence)
 *
 * sender -> main ("completions" channel):
 *   DONE   op:uint8 | batchId:uint32 | baseOffset:float64 | logAppendTimeMs:float64
 *   FAILED op:uint8 | batchId:uint32 | UTF-8 JSON WireError
 */
export const ProducerOp = {
  TOPIC: 1,
  BATCH: 2,
  DONE: 3,
  FAILED: 4,
} as const;

export const ProducerFrame = {
  OP_OFFSET: 0,
  ID_OFFSET: 1,
  TOPIC_HEADER_BYTES: 5,
  BATCH_TOPIC_OFFSET: 5,
  BATCH_PARTITION_OFFSET: 9,
  BATCH_DEADLINE_OFFSET: 13,
  BATCH_HEADER_BYTES: 21,
  DONE_BASE_OFFSET_OFFSET: 5,
  DONE_LOG_APPEND_TIME_OFFSET: 13,
  DONE_BYTES: 21,
  FAILED_HEADER_BYTES: 5,
} as const;

/**
 * Consumer frames (consumer I/O worker -> main thread, "fetched" channel), little-endian, one per
 * channel frame. `epoch` is the partition's position epoch when the fetch was asked for: the main
 * thread bumps it on every seek or reassignment and drops frames of an older one.
 *
 *   DATA   op:uint8 | partitionIndex:uint32 | epoch:uint32 | highWatermark:float64 |
 *          whole RecordBatches, CRCs checked (the first may start before the position)
 *   RESET  op:uint8 | partitionIndex:uint32 | epoch:uint32 | offset:float64
 *          (an earliest/latest reset resolved: the position is now `offset`)
 *   ERROR  op:uint8 | partitionIndex:uint32 | epoch:uint32 | UTF-8 JSON WireError
 *          (the partition is not fetched again until the next seek)
 */
export const ConsumerOp = {
  DATA: 1,
  RESET: 2,
  ERROR: 3,
} as const;

export const ConsumerFrame = {
  OP_OFFSET: 0,
  PARTITION_OFFSET: 1,
  EPOCH_OFFSET: 5,
  HEADER_BYTES: 9,
  DATA_HIGH_WATERMARK_OFFSET: 9,
  DATA_HEADER_BYTES: 17,
  RESET_OFFSET_OFFSET: 9,
  RESET_BYTES: 17,
} as const;

/**
 * A consumer's shared state: an Int32Array of CONSUMER_STATE_SLOTS, each slot on its own cache line.
 *
 *   POLL_CLOCK_MS    written by the main thread at every poll(): Date.now() minus the clock base
 *                    both sides were given, as a uint32 (compared modulo 2^32). The heartbeat worker
 *                    reads it to enforce max.poll.interval.ms without asking the main thread.
 *   BYTES_HELD       fetched bytes not yet released by the main thread (the I/O worker adds what
 *                    it fetched, the main thread subtracts what poll() is done with):
 *                    fetch.max.bytes bounds it.
 *   CREDIT_SEQ       bumped by the main thread after releasing bytes, to wake the I/O worker
 *   FETCHER_WAITING  1 while the I/O worker is (about to be) asleep on CREDIT_SEQ
 */
export const ConsumerSlot = {
  POLL_CLOCK_MS: 0 * LINE_SLOTS,
  BYTES_HELD: 1 * LINE_SLOTS,
  CREDIT_SEQ: 2 * LINE_SLOTS,
  FETCHER_WAITING: 3 * LINE_SLOTS,
} as const;

export const CONSUMER_STATE_SLOTS = 4 * LINE_SLOTS;
export const CONSUMER_STATE_BYTES = CONSUMER_STATE_SLOTS * Int32Array.BYTES_PER_ELEMENT;
