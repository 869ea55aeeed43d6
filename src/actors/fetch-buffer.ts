/**
 * FetchBuffer: the consumer's fetched batches on the main thread, oldest first (Kafka's completed
 * fetches), decoded only when poll() takes records from them: a record costs one object and views
 * of its key and value into one copy of the bytes the poll's records span, so that a chunk's
 * memory can be recycled as soon as poll() is done with it — fresh memory for every fetched
 * megabyte costs more in page faults (on this VM) than that copy. Batches were checked by the I/O worker (CRC included); compressed ones
 * are decompressed here with the codecs registered on this thread.
 *
 * Records below a partition's position are skipped (a fetch returns the whole batch holding the
 * position), control batches are stepped over, and each partition's position moves past every
 * record returned. A chunk whose partition was sought or revoked since is dropped. Every chunk's
 * bytes are given back to the fetch.max.bytes credit once it is done with. Main thread only.
 */
import { CorruptRecordError, RinglogError, SerializationError } from '../shared/errors.js';
import { codecFor } from '../shared/record-batch/compression.js';
import { readInt64Number } from '../shared/record-batch/header.js';
import {
  ATTRIBUTES_OFFSET, BASE_TIMESTAMP_OFFSET, BATCH_LENGTH_OFFSET, COMPRESSION_CODEC_MASK, CONTROL_FLAG_MASK, LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD, MAX_TIMESTAMP_OFFSET, PARTITION_LEADER_EPOCH_OFFSET, RECORD_BATCH_OVERHEAD, RECORDS_COUNT_OFFSET, TIMESTAMP_TYPE_MASK,
} from '../shared/record-batch/layout.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../shared/record-batch/reader.js';
import type { ConsumerHeader, DeserializerFunction } from '../shared/serializers.js';
import type { AssignedPartition } from './subscription-state.js';

export interface ConsumerRecord<K = Buffer | null, V = Buffer | null> {
  topic: string;
  partition: number;
  offset: number;
  /** Create time, or the broker's log-append time (see timestampType). */
  timestamp: number;
  timestampType: 'CreateTime' | 'LogAppendTime';
  key: K;
  value: V;
  headers: readonly ConsumerHeader[];
  /** The partition leader epoch the record was written in (-1 unknown). */
  leaderEpoch: number;
  /** Bytes of the key and value as stored; -1 for null, as in Kafka. */
  serializedKeySize: number;
  serializedValueSize: number;
}

export interface Deserializers {
  key: DeserializerFunction<unknown> | null;
  value: DeserializerFunction<unknown> | null;
}

const NO_HEADERS: readonly ConsumerHeader[] = Object.freeze([]);

/** One DATA frame's batches, and the batch being read. */
class FetchedChunk {
  readonly state: AssignedPartition;
  readonly epoch: number;
  readonly bytes: Buffer;
  /** Where the next batch starts. */
  next = 0;
  // The batch being read: its records section [at, end) of `records`.
  records: Buffer | null = null;
  at = 0;
  end = 0;
  remaining = 0;
  baseOffset = 0;
  lastOffset = 0;
  baseTimestamp = 0;
  /** The batch's max timestamp when it uses log-append time, else -1. */
  logAppendTime = -1;
  leaderEpoch = -1;

  constructor(state: AssignedPartition, epoch: number, bytes: Buffer) {
    this.state = state;
    this.epoch = epoch;
    this.bytes = bytes;
  }
}

// The varint readers advance this cursor: one module-level number, no object per call.
let at = 0;

function varint(buf: Buffer): number {
  let b = buf[at++]!;
  if (b < 0x80) return (b >>> 1) ^ -(b & 1);
  let value = b & 0x7f;
  for (let shift = 7; shift < 35; shift += 7) {
    b = buf[at++]!;
    value |= (b & 0x7f) << shift;
    if (b < 0x80) return (value >>> 1) ^ -(value & 1);
  }
  throw new CorruptRecordError(`varint longer than 5 bytes at ${at}`);
}

/** A zigzag varlong as a number (exact within ±2^53, as every timestamp delta is). */
function varlong(buf: Buffer): number {
  let b = buf[at++]!;
  if (b < 0x80) return (b >>> 1) ^ -(b & 1);
  let value = b & 0x7f;
  let scale = 128;
  for (let i = 1; i < 10; i++) {
    b = buf[at++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    scale *= 128;
  }
  throw new CorruptRecordError(`varlong longer than 10 bytes at ${at}`);
}

/** Int32 fields kept per record between parsing and building: start, end, key start and length, value start and length, headers start and count. */
const SCRATCH_INTS = 8;

/** A copy of buf[start, start + length), small ones carved from Node's shared Buffer pool. */
function copyOut(buf: Buffer, start: number, length: number): Buffer {
  const copy = Buffer.allocUnsafe(length);
  buf.copy(copy, 0, start, start + length);
  return copy;
}

export class FetchBuffer {
  #chunks: FetchedChunk[] = [];
  readonly #release: (chunk: Buffer) => void;
  #fields = { offset: new Float64Array(0), timestamp: new Float64Array(0), ints: new Int32Array(0) };

  /** `release` takes back a finished chunk's memory (and its fetch.max.bytes credit). */
  constructor(release: (chunk: Buffer) => void) {
    this.#release = release;
  }

  get chunks(): number {
    return this.#chunks.length;
  }

  add(state: AssignedPartition, epoch: number, bytes: Buffer): void {
    this.#chunks.push(new FetchedChunk(state, epoch, bytes));
  }

  /** True when some unpaused, current chunk is waiting. */
  hasRecords(isCurrent: (state: AssignedPartition) => boolean): boolean {
    return this.#chunks.some((c) => !c.state.paused && c.epoch === c.state.epoch && isCurrent(c.state));
  }

  /** Drops every chunk of these partitions (revoked, sought), or of all. */
  drop(states?: ReadonlySet<AssignedPartition>): void {
    this.#chunks = this.#chunks.filter((c) => {
      if (states !== undefined && !states.has(c.state)) return true;
      this.#release(c.bytes);
      return false;
    });
  }

  /**
   * Appends up to `max` records to `out`, oldest chunk first, skipping paused partitions. A
   * deserializer that throws stops the drain at that record (its position stays there): the error
   * is thrown when nothing was taken yet, else by the next drain.
   */
  drain(out: ConsumerRecord<unknown, unknown>[], max: number, isCurrent: (state: AssignedPartition) => boolean, deserializers: Deserializers): void {
    for (let i = 0; i < this.#chunks.length && out.length < max;) {
      const chunk = this.#chunks[i]!;
      if (chunk.epoch !== chunk.state.epoch || !isCurrent(chunk.state)) {
        this.#remove(i);
        continue;
      }
      if (chunk.state.paused || chunk.state.position === null || chunk.state.error !== null) {
        i++;
        continue;
      }
      let done: boolean;
      try {
        done = this.#take(chunk, out, max, deserializers);
      } catch (error) {
        if (error instanceof SerializationError && out.length > 0) return;
        if (!(error instanceof SerializationError)) {
          // Corrupt: the partition stops here and the error stays until a seek past it, as in Kafka.
          chunk.state.error = error as Error;
          this.#remove(i);
        }
        throw error;
      }
      if (done) this.#remove(i);
      else i++;
    }
  }

  #remove(i: number): void {
    const [chunk] = this.#chunks.splice(i, 1);
    this.#release(chunk!.bytes);
  }

  /** Records of one chunk into `out`; true when the chunk is used up. */
  #take(chunk: FetchedChunk, out: ConsumerRecord<unknown, unknown>[], max: number, deserializers: Deserializers): boolean {
    const state = chunk.state;
    for (;;) {
      if (chunk.remaining === 0) {
        if (chunk.records !== null) {
          // The batch is done: the position moves past it (past records compaction removed too).
          if (state.position! <= chunk.lastOffset) state.position = chunk.lastOffset + 1;
          chunk.records = null;
        }
        if (chunk.next >= chunk.bytes.length) return true;
        this.#openBatch(chunk);
        continue;
      }
      if (out.length >= max) return false;
      this.#takeRun(chunk, out, max, deserializers);
    }
  }
  #openBatch(chunk: FetchedChunk): void {
    const bytes = chunk.bytes;
    const start = chunk.next;
    const end = start + LOG_OVERHEAD + bytes.readInt32BE(start + BATCH_LENGTH_OFFSET);
    chunk.next = end;
    const baseOffset = readInt64Number(bytes, start);
    const lastOffset = baseOffset + bytes.readInt32BE(start + LAST_OFFSET_DELTA_OFFSET);
    const attributes = bytes.readInt16BE(start + ATTRIBUTES_OFFSET);
    const count = bytes.readInt32BE(start + RECORDS_COUNT_OFFSET);
    chunk.baseOffset = baseOffset;
    chunk.lastOffset = lastOffset;
    // Already consumed, or a transaction marker: step over without reading records.
    if (lastOffset < chunk.state.position! || (attributes & CONTROL_FLAG_MASK) !== 0 || count === 0) {
      chunk.records = chunk.bytes;
      chunk.remaining = 0;
      return;
    }
    chunk.baseTimestamp = readInt64Number(bytes, start + BASE_TIMESTAMP_OFFSET);
    chunk.logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? readInt64Number(bytes, start + MAX_TIMESTAMP_OFFSET) : -1;
    chunk.leaderEpoch = bytes.readInt32BE(start + PARTITION_LEADER_EPOCH_OFFSET);
    const compression = attributes & COMPRESSION_CODEC_MASK;
    if (compression === 0) {
      chunk.records = bytes;
      chunk.at = start + RECORD_BATCH_OVERHEAD;
      chunk.end = end;
    } else {
      const records = codecFor(compression).decompress(bytes.subarray(start + RECORD_BATCH_OVERHEAD, end), DEFAULT_MAX_DECOMPRESSED_BYTES);
      chunk.records = records;
      chunk.at = 0;
      chunk.end = records.length;
    }
    chunk.remaining = count;
  }

  /**
   * Records of the current batch, up to `max` in `out`: their fields parsed first (into scratch
   * arrays), then the bytes they span copied in one piece — a chunk's memory is recycled, so
   * records may not point into it — and each key and value a view of that copy.
   */
  #takeRun(chunk: FetchedChunk, out: ConsumerRecord<unknown, unknown>[], max: number, deserializers: Deserializers): void {
    const buf = chunk.records!;
    const scratch = this.#scratch(max);
    const position = chunk.state.position!;
    let n = 0;
    while (chunk.remaining > 0 && out.length + n < max) {
      const recordStart = chunk.at;
      at = recordStart;
      const length = varint(buf);
      const recordEnd = at + length;
      if (length < 0 || recordEnd > chunk.end) throw this.#corrupt(chunk, recordStart, `record length ${length} runs past the batch`);
      at++; // attributes
      const timestampDelta = varlong(buf);
      const offset = chunk.baseOffset + varint(buf);
      const keyLength = varint(buf);
      const keyStart = at;
      if (keyLength > recordEnd - at) throw this.#corrupt(chunk, recordStart, `key length ${keyLength} runs past the record`);
      at += keyLength < 0 ? 0 : keyLength;
      const valueLength = varint(buf);
      const valueStart = at;
      if (valueLength > recordEnd - at) throw this.#corrupt(chunk, recordStart, `value length ${valueLength} runs past the record`);
      at += valueLength < 0 ? 0 : valueLength;
      const headerCount = varint(buf);
      if (headerCount === 0 && at !== recordEnd) throw this.#corrupt(chunk, recordStart, `fields take ${at - recordStart} bytes, the record says ${recordEnd - recordStart}`);
      chunk.at = recordEnd;
      chunk.remaining--;
      if (offset < position) continue;
      scratch.offset[n] = offset;
      scratch.timestamp[n] = chunk.logAppendTime >= 0 ? chunk.logAppendTime : chunk.baseTimestamp + timestampDelta;
      const ints = scratch.ints;
      const f = n * SCRATCH_INTS;
      ints[f] = recordStart;
      ints[f + 1] = recordEnd;
      ints[f + 2] = keyStart;
      ints[f + 3] = keyLength;
      ints[f + 4] = valueStart;
      ints[f + 5] = valueLength;
      ints[f + 6] = at;
      ints[f + 7] = headerCount;
      n++;
    }
    if (n === 0) return;
    const ints = scratch.ints;
    // A decompressed buffer is this batch's alone and never reused: no copy needed.
    const base = buf === chunk.bytes ? ints[0]! : 0;
    const bytes = buf === chunk.bytes ? copyOut(buf, base, chunk.at - base) : buf;
    const state = chunk.state;
    const timestampType = chunk.logAppendTime >= 0 ? 'LogAppendTime' : 'CreateTime';
    // Keys and values are views of `bytes`, made from its ArrayBuffer: Buffer.from(arrayBuffer,
    // offset, length) costs about 47 ns where Buffer#subarray costs 63 (measured here).
    const memory = bytes.buffer;
    const at0 = bytes.byteOffset;
    for (let i = 0; i < n; i++) {
      const f = i * SCRATCH_INTS;
      const keyLength = ints[f + 3]!;
      const valueLength = ints[f + 5]!;
      const headers = ints[f + 7] === 0 ? NO_HEADERS : this.#headers(chunk, bytes, base, ints[f + 6]!, ints[f + 7]!, ints[f + 1]!, ints[f]!);
      let key: unknown = keyLength < 0 ? null : Buffer.from(memory, at0 + ints[f + 2]! - base, keyLength);
      let value: unknown = valueLength < 0 ? null : Buffer.from(memory, at0 + ints[f + 4]! - base, valueLength);
      const offset = scratch.offset[i]!;
      if (deserializers.key !== null || deserializers.value !== null) {
        try {
          if (deserializers.key !== null) key = deserializers.key(key as Buffer | null, state.topic, headers);
          if (deserializers.value !== null) value = deserializers.value(value as Buffer | null, state.topic, headers);
        } catch (error) {
          // Stay on this record: the position does not move past a record the application never got.
          chunk.at = ints[f]!;
          chunk.remaining += n - i;
          const message = error instanceof RinglogError ? error.message : String(error);
          throw new SerializationError(`${state.name} offset ${offset}: ${message} (seek past it to skip the record)`, { cause: error });
        }
      }
      out.push({
        topic: state.topic,
        partition: state.partition,
        offset,
        timestamp: scratch.timestamp[i]!,
        timestampType,
        key,
        value,
        headers,
        leaderEpoch: chunk.leaderEpoch,
        serializedKeySize: keyLength,
        serializedValueSize: valueLength,
      });
      state.position = offset + 1;
      state.leaderEpoch = chunk.leaderEpoch;
    }
  }

  /** Scratch arrays for `max` records' fields, reused from drain to drain. */
  #scratch(max: number): { offset: Float64Array; timestamp: Float64Array; ints: Int32Array } {
    if (this.#fields.offset.length < max) {
      this.#fields = { offset: new Float64Array(max), timestamp: new Float64Array(max), ints: new Int32Array(max * SCRATCH_INTS) };
    }
    return this.#fields;
  }

  /** Headers of a record, read from `bytes` (which starts at `base` of the batch's records). */
  #headers(chunk: FetchedChunk, bytes: Buffer, base: number, headersAt: number, count: number, recordEnd: number, recordStart: number): ConsumerHeader[] {
    const end = recordEnd - base;
    at = headersAt - base;
    if (count < 0 || count > (end - at) / 2) throw this.#corrupt(chunk, recordStart, `header count ${count} cannot fit`);
    const headers: ConsumerHeader[] = [];
    for (let i = 0; i < count; i++) {
      const keyLength = varint(bytes);
      if (keyLength < 0 || keyLength > end - at) throw this.#corrupt(chunk, recordStart, `header ${i} key length ${keyLength}`);
      const key = bytes.toString('utf8', at, at + keyLength);
      at += keyLength;
      const valueLength = varint(bytes);
      if (valueLength > end - at) throw this.#corrupt(chunk, recordStart, `header ${i} value length ${valueLength}`);
      headers.push({ key, value: valueLength < 0 ? null : bytes.subarray(at, at + valueLength) });
      at += valueLength < 0 ? 0 : valueLength;
    }
    if (at !== end) throw this.#corrupt(chunk, recordStart, `headers end ${end - at} bytes before the record does`);
    return headers;
  }

  #corrupt(chunk: FetchedChunk, recordStart: number, why: string): CorruptRecordError {
    return new CorruptRecordError(`${chunk.state.name}, batch at offset ${chunk.baseOffset}, record at byte ${recordStart}: ${why}`);
  }
}
