/**
 * Kafka's zstd: a standard zstd frame (RFC 8878), level 3 (Kafka's default compression.zstd.level),
 * through @toondepauw/node-zstd (napi-rs over the zstd crate / libzstd).
 *
 * The native decoder reads to the end with no output limit, so before it runs, the frames are walked
 * here: every block header is checked against the input, and the sum of what the blocks can produce
 * (a raw or RLE block its size, a compressed block at most min(window, 128 KiB); a frame that states
 * its content size, that size, which libzstd enforces) must be within maxOutputBytes. Frames without a
 * content size (what Kafka's Java client writes) can only be bounded to within one block, so those may
 * use one 128 KiB block of slack before the output itself is checked against the limit.
 */
import type * as NodeZstd from '@toondepauw/node-zstd';
import { CorruptRecordError } from '../../errors.js';
import type { CompressionCodec } from '../compression.js';

const ZSTD_FRAME_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50-0x184D2A5F, a u32 size, then data the decoder ignores. */
const SKIPPABLE_MAGIC_BASE = 0x184d2a50;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const ZSTD_BLOCK_MAX_BYTES = 128 * 1024;
/** Kafka's default compression.zstd.level. */
const KAFKA_ZSTD_LEVEL = 3;
const BLOCK_HEADER_BYTES = 3;
const BLOCK_TYPE_RAW = 0;
const BLOCK_TYPE_RLE = 1;
const BLOCK_TYPE_COMPRESSED = 2;
const FCS_FIELD_BYTES = [0, 2, 4, 8];
const DICTIONARY_ID_BYTES = [0, 1, 2, 4];
/** The 2-byte content size field stores size - 256. */
const FCS_2_BYTE_OFFSET = 256;

function fail(message: string): never {
  throw new CorruptRecordError(`zstd: ${message}`);
}

interface Bound {
  /** Most bytes the frames can decode to. */
  bytes: number;
  /** True when every frame states its content size, so `bytes` is exact. */
  exact: boolean;
}

/** Reads a little-endian unsigned field of 1-8 bytes as a number (sizes past 2^53 become Infinity). */
function readUnsignedLE(view: Buffer, position: number, bytes: number): number {
  if (bytes === 8) return view.readUInt32LE(position + 4) === 0 ? view.readUInt32LE(position) : Number.POSITIVE_INFINITY;
  return view.readUIntLE(position, bytes);
}

/** Walks one zstd frame from `position`; returns where it ends and what it can decode to. */
function walkFrame(view: Buffer, start: number): { end: number; bytes: number; exact: boolean } {
  let position = start + 4;
  if (view.length - position < 1) fail(`frame at byte ${start} ends inside its header`);
  const descriptor = view[position++];
  const fcsFlag = descriptor >>> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  if ((descriptor & 0x08) !== 0) fail(`frame at byte ${start} sets the reserved descriptor bit`);
  const hasChecksum = (descriptor & 0x04) !== 0;
  const dictionaryIdBytes = DICTIONARY_ID_BYTES[descriptor & 0x03];
  const fcsBytes = fcsFlag === 0 && singleSegment ? 1 : FCS_FIELD_BYTES[fcsFlag];
  const headerRest = (singleSegment ? 0 : 1) + dictionaryIdBytes + fcsBytes;
  if (view.length - position < headerRest) fail(`frame at byte ${start} ends inside its header`);
  let windowBytes = Number.POSITIVE_INFINITY;
  if (!singleSegment) {
    const windowDescriptor = view[position++];
    const windowBase = 2 ** (10 + (windowDescriptor >>> 3));
    windowBytes = windowBase + (windowBase / 8) * (windowDescriptor & 0x07);
  }
  if (dictionaryIdBytes > 0 && view.readUIntLE(position, dictionaryIdBytes) !== 0) fail(`frame at byte ${start} needs a dictionary`);
  position += dictionaryIdBytes;
  let contentBytes: number | null = null;
  if (fcsBytes > 0) {
    contentBytes = readUnsignedLE(view, position, fcsBytes) + (fcsBytes === 2 ? FCS_2_BYTE_OFFSET : 0);
    position += fcsBytes;
  }
  if (singleSegment) windowBytes = contentBytes ?? 0;
  const blockMaxBytes = Math.min(windowBytes, ZSTD_BLOCK_MAX_BYTES);
  let blocksBound = 0;
  for (let last = false; !last; ) {
    if (view.length - position < BLOCK_HEADER_BYTES) fail(`frame at byte ${start} ends inside a block header`);
    const header = view.readUIntLE(position, BLOCK_HEADER_BYTES);
    position += BLOCK_HEADER_BYTES;
    last = (header & 1) === 1;
    const type = (header >>> 1) & 3;
    const size = header >>> 3;
    if (size > blockMaxBytes) fail(`block of ${size} bytes at byte ${position - 3} is over the ${blockMaxBytes}-byte block maximum`);
    const storedBytes = type === BLOCK_TYPE_RLE ? 1 : size;
    if (type !== BLOCK_TYPE_RAW && type !== BLOCK_TYPE_RLE && type !== BLOCK_TYPE_COMPRESSED) fail(`block at byte ${position - 3} has the reserved type 3`);
    if (storedBytes > view.length - position) fail(`block of ${storedBytes} bytes at byte ${position - 3} runs past the end`);
    blocksBound += type === BLOCK_TYPE_COMPRESSED ? blockMaxBytes : size;
    position += storedBytes;
  }
  if (hasChecksum) {
    if (view.length - position < 4) fail(`frame at byte ${start} ends before its checksum`);
    position += 4;
  }
  return { end: position, bytes: contentBytes === null ? blocksBound : Math.min(contentBytes, blocksBound), exact: contentBytes !== null };
}

/** Walks every frame of the input (zstd or skippable; nothing else may follow). */
function boundFrames(view: Buffer): Bound {
  if (view.length === 0) fail('no frame');
  const bound: Bound = { bytes: 0, exact: true };
  let position = 0;
  while (position < view.length) {
    if (view.length - position < 4) fail(`${view.length - position} stray bytes at byte ${position}`);
    const magic = view.readUInt32LE(position);
    if (((magic & SKIPPABLE_MAGIC_MASK) >>> 0) === SKIPPABLE_MAGIC_BASE) {
      if (view.length - position < 8) fail(`skippable frame at byte ${position} ends inside its header`);
      const size = view.readUInt32LE(position + 4);
      if (size > view.length - position - 8) fail(`skippable frame at byte ${position} runs past the end`);
      position += 8 + size;
      continue;
    }
    if (magic !== ZSTD_FRAME_MAGIC) fail(`magic 0x${magic.toString(16)} at byte ${position} is not a zstd frame`);
    const frame = walkFrame(view, position);
    bound.bytes += frame.bytes;
    bound.exact &&= frame.exact;
    position = frame.end;
  }
  return bound;
}

function decompress(decoder: NodeZstd.Decoder, bytes: Uint8Array, maxOutputBytes: number): Buffer {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bound = boundFrames(view);
  const allowed = bound.exact ? maxOutputBytes : maxOutputBytes + ZSTD_BLOCK_MAX_BYTES;
  if (bound.bytes > allowed) fail(`frames can decode to ${bound.bytes} bytes, over the ${maxOutputBytes}-byte limit`);
  let out: Buffer;
  try {
    out = decoder.decodeSync(view);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (out.length > maxOutputBytes) fail(`frames decode to ${out.length} bytes, over the ${maxOutputBytes}-byte limit`);
  return out;
}

/** Kafka's zstd codec over @toondepauw/node-zstd. */
export function createZstdCodec(zstd: typeof NodeZstd): CompressionCodec {
  const encoder = new zstd.Encoder(KAFKA_ZSTD_LEVEL);
  const decoder = new zstd.Decoder();
  return {
    compress: (bytes) => encoder.encodeSync(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
    decompress: (bytes, maxOutputBytes) => decompress(decoder, bytes, maxOutputBytes),
  };
}
