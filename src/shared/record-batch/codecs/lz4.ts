/**
 * Kafka's lz4: one standard LZ4 frame (magic 0x184D2204, lz4_Frame_format.md v1.6), as Kafka's
 * Lz4BlockOutputStream and librdkafka write it for magic >= 1: FLG version 01 with independent
 * blocks, BD 64 KiB blocks, a correct header checksum (the byte Kafka 0.8/0.9 got wrong), no
 * content size, no checksums, blocks that do not shrink stored raw (high bit of the size), then a
 * zero end mark.
 *
 * Blocks are compressed by lz4-napi (lz4_flex). Reading accepts any single standard frame with
 * independent blocks: content size, block and content checksums are honoured; dependent blocks and
 * dictionaries (which Kafka never writes) are refused. Blocks decode into one buffer sized from the
 * block headers and capped at maxOutputBytes.
 */
import type * as Lz4Napi from 'lz4-napi';
import { CorruptRecordError } from '../../errors.js';
import type { CompressionCodec } from '../compression.js';
import { decodeLz4Block } from './lz4-block.js';
import { xxhash32 } from './xxhash32.js';

const LZ4_FRAME_MAGIC = 0x184d2204;
const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_01 = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICTIONARY_ID = 0x01;
const BD_BLOCK_MAX_SHIFT = 4;
const BD_RESERVED = 0x8f;
/** BD block-maximum id 4: 64 KiB, what Kafka writes. */
const KAFKA_BLOCK_MAX_ID = 4;
const LZ4_KAFKA_BLOCK_BYTES = 64 * 1024;
const UNCOMPRESSED_BLOCK_FLAG = 0x80000000;
/** magic, FLG, BD and the header checksum. */
const KAFKA_HEADER_BYTES = 7;
const KAFKA_FLG = FLG_VERSION_01 | FLG_BLOCK_INDEPENDENCE;
const KAFKA_BD = KAFKA_BLOCK_MAX_ID << BD_BLOCK_MAX_SHIFT;
/** lz4-napi's block format puts the uncompressed size before the block (lz4_flex's size-prepended). */
const NAPI_SIZE_PREFIX_BYTES = 4;
/** An LZ4 sequence yields at most 255 output bytes per input byte (long runs of 255-byte length extensions). */
const MAX_BLOCK_EXPANSION = 255;

function fail(message: string): never {
  throw new CorruptRecordError(`lz4: ${message}`);
}

/** The frame header checksum: the second byte of XXH32 over the descriptor (FLG to before HC). */
function headerChecksum(bytes: Uint8Array, descriptorStart: number, descriptorEnd: number): number {
  return (xxhash32(bytes, descriptorStart, descriptorEnd) >>> 8) & 0xff;
}

function compressFrame(lz4: typeof Lz4Napi, input: Uint8Array): Buffer {
  const blocks = Math.ceil(input.length / LZ4_KAFKA_BLOCK_BYTES);
  // Each block is stored raw when compression does not shrink it, so it never takes more than its input.
  const out = Buffer.allocUnsafe(KAFKA_HEADER_BYTES + blocks * 4 + input.length + 4);
  out.writeUInt32LE(LZ4_FRAME_MAGIC, 0);
  out[4] = KAFKA_FLG;
  out[5] = KAFKA_BD;
  out[6] = headerChecksum(out, 4, 6);
  let position = KAFKA_HEADER_BYTES;
  for (let start = 0; start < input.length; start += LZ4_KAFKA_BLOCK_BYTES) {
    const block = input.subarray(start, Math.min(start + LZ4_KAFKA_BLOCK_BYTES, input.length));
    const compressed = lz4.compressSync(Buffer.from(block.buffer, block.byteOffset, block.byteLength));
    const compressedBytes = compressed.length - NAPI_SIZE_PREFIX_BYTES;
    if (compressedBytes < block.length) {
      out.writeUInt32LE(compressedBytes, position);
      compressed.copy(out, position + 4, NAPI_SIZE_PREFIX_BYTES);
      position += 4 + compressedBytes;
    } else {
      out.writeUInt32LE((block.length | UNCOMPRESSED_BLOCK_FLAG) >>> 0, position);
      out.set(block, position + 4);
      position += 4 + block.length;
    }
  }
  out.writeUInt32LE(0, position); // end mark
  return out.subarray(0, position + 4);
}

interface FrameLayout {
  flags: number;
  blockMaxBytes: number;
  contentSize: number | null;
  /** Where the first block header is. */
  blocksStart: number;
}

function readFrameHeader(view: Buffer): FrameLayout {
  if (view.length < KAFKA_HEADER_BYTES) fail(`${view.length} bytes are too few for a frame header`);
  const magic = view.readUInt32LE(0);
  if (magic !== LZ4_FRAME_MAGIC) fail(`magic 0x${magic.toString(16)} is not the LZ4 frame magic 0x184d2204`);
  const flags = view[4];
  const bd = view[5];
  if ((flags & FLG_VERSION_MASK) !== FLG_VERSION_01) fail(`frame version ${(flags & FLG_VERSION_MASK) >>> 6} is not 1`);
  if ((flags & FLG_RESERVED) !== 0 || (bd & BD_RESERVED) !== 0) fail('reserved descriptor bits are set');
  if ((flags & FLG_BLOCK_INDEPENDENCE) === 0) fail('dependent blocks are not supported (Kafka writes independent blocks)');
  if ((flags & FLG_DICTIONARY_ID) !== 0) fail('frames that need a dictionary are not supported');
  const blockMaxId = bd >>> BD_BLOCK_MAX_SHIFT;
  if (blockMaxId < 4) fail(`block maximum size id ${blockMaxId} is not one of 4-7`);
  let position = 6;
  let contentSize: number | null = null;
  if ((flags & FLG_CONTENT_SIZE) !== 0) {
    if (view.length < position + 9) fail('frame header ends inside the content size');
    const high = view.readUInt32LE(position + 4);
    // Anything at or above 2^32 is far past any limit; keep it as Infinity rather than lose precision.
    contentSize = high === 0 ? view.readUInt32LE(position) : Number.POSITIVE_INFINITY;
    position += 8;
  }
  if (view[position] !== headerChecksum(view, 4, position)) fail('frame header checksum mismatch');
  return { flags, blockMaxBytes: 1 << (2 * blockMaxId + 8), contentSize, blocksStart: position + 1 };
}

/**
 * Walks the block headers: checks every block fits in the input and its declared maximum, and
 * returns an upper bound on the decoded size (exact for raw blocks).
 */
function boundDecodedBytes(view: Buffer, frame: FrameLayout): number {
  const checksumBytes = (frame.flags & FLG_BLOCK_CHECKSUM) !== 0 ? 4 : 0;
  let position = frame.blocksStart;
  let bound = 0;
  for (;;) {
    if (view.length - position < 4) fail('frame ends before its end mark');
    const word = view.readUInt32LE(position);
    position += 4;
    if (word === 0) return bound;
    const size = word & ~UNCOMPRESSED_BLOCK_FLAG;
    if (size > frame.blockMaxBytes) fail(`block of ${size} bytes is over the frame's ${frame.blockMaxBytes}-byte maximum`);
    if (size + checksumBytes > view.length - position) fail(`block of ${size} bytes runs past the end of the frame`);
    bound += word & UNCOMPRESSED_BLOCK_FLAG ? size : Math.min(frame.blockMaxBytes, size * MAX_BLOCK_EXPANSION);
    position += size + checksumBytes;
  }
}

/** Decoding space reused from call to call (decoding is synchronous); larger outputs get their own. */
const SCRATCH_MAX_BYTES = 1024 * 1024;
let scratch = Buffer.alloc(0);

function scratchOf(capacity: number): Buffer {
  if (capacity > SCRATCH_MAX_BYTES) return Buffer.allocUnsafe(capacity);
  if (scratch.length < capacity) scratch = Buffer.allocUnsafeSlow(Math.max(capacity, LZ4_KAFKA_BLOCK_BYTES));
  return scratch;
}

function decompressFrame(bytes: Uint8Array, maxOutputBytes: number): Buffer {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frame = readFrameHeader(view);
  if (frame.contentSize !== null && frame.contentSize > maxOutputBytes) {
    fail(`content size ${frame.contentSize} is over the ${maxOutputBytes}-byte limit`);
  }
  // One buffer for the whole output: no larger than the blocks can produce, nor than the limit.
  const bound = boundDecodedBytes(view, frame);
  const capacity = Math.min(frame.contentSize ?? bound, bound, maxOutputBytes);
  const out = scratchOf(capacity);
  const hasBlockChecksums = (frame.flags & FLG_BLOCK_CHECKSUM) !== 0;
  let position = frame.blocksStart;
  let written = 0;
  for (;;) {
    const word = view.readUInt32LE(position);
    position += 4;
    if (word === 0) break;
    const size = word & ~UNCOMPRESSED_BLOCK_FLAG;
    const blockEnd = position + size;
    if (hasBlockChecksums && view.readUInt32LE(blockEnd) !== xxhash32(view, position, blockEnd)) fail(`block checksum mismatch at byte ${position}`);
    if (word & UNCOMPRESSED_BLOCK_FLAG) {
      if (size > capacity - written) fail(`block at byte ${position} takes the output past ${capacity} bytes (limit ${maxOutputBytes})`);
      out.set(view.subarray(position, blockEnd), written);
      written += size;
    } else {
      try {
        written = decodeLz4Block(view, position, blockEnd, out, written, capacity);
      } catch (err) {
        fail(`block at byte ${position}: ${(err as Error).message} (limit ${maxOutputBytes} bytes)`);
      }
    }
    position = blockEnd + (hasBlockChecksums ? 4 : 0);
  }
  if ((frame.flags & FLG_CONTENT_CHECKSUM) !== 0) {
    if (view.length - position < 4) fail('frame ends before its content checksum');
    if (view.readUInt32LE(position) !== xxhash32(out, 0, written)) fail('content checksum mismatch');
    position += 4;
  }
  if (position !== view.length) fail(`${view.length - position} bytes follow the frame`);
  if (frame.contentSize !== null && frame.contentSize !== written) fail(`frame says ${frame.contentSize} content bytes but holds ${written}`);
  // The capacity is only a bound (a 16 KiB batch in one 64 KiB block has 64 KiB of it): keep exactly what was written.
  return out === scratch ? Buffer.from(out.subarray(0, written)) : out.subarray(0, written);
}

/** Kafka's lz4 codec over lz4-napi's block compressor. */
export function createLz4Codec(lz4: typeof Lz4Napi): CompressionCodec {
  return {
    compress: (bytes) => compressFrame(lz4, bytes),
    decompress: (bytes, maxOutputBytes) => decompressFrame(bytes, maxOutputBytes),
  };
}
