/**
 * Kafka's snappy: the xerial snappy-java stream framing that the Java client writes
 * (SnappyOutputStream): the 8-byte magic 0x82 'SNAPPY' 0x00, int32 BE version 1, int32 BE
 * compatible version 1, then blocks of [int32 BE length][raw snappy block], each block at most
 * 32 KiB of input (snappy-java's default block size).
 *
 * Reading accepts that framing (several concatenated streams too, as snappy-java does) and plain
 * raw snappy, which some clients write. A raw snappy block starts with its uncompressed length as a
 * varint, so every block's output size is checked against the limit before it is decoded.
 */
import type * as SnappyNapi from 'snappy';
import { CorruptRecordError } from '../../errors.js';
import type { CompressionCodec } from '../compression.js';

const XERIAL_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00);
const XERIAL_VERSION = 1;
const XERIAL_COMPATIBLE_VERSION = 1;
/** magic, version, compatible version. */
const XERIAL_HEADER_BYTES = XERIAL_MAGIC.length + 8;
const XERIAL_BLOCK_BYTES = 32 * 1024;
/**
 * The package's default output is an external buffer (native memory with a finalizer), several
 * times slower per 16 KiB call than copying the bytes into an ordinary Buffer.
 */
const COPY_OUTPUT = { copyOutputData: true } as const;
/** A snappy block's uncompressed length is a varint of at most 5 bytes (a uint32). */
const MAX_LENGTH_VARINT_BYTES = 5;

function fail(message: string): never {
  throw new CorruptRecordError(`snappy: ${message}`);
}

function startsWithXerialMagic(bytes: Uint8Array, position: number): boolean {
  if (bytes.length - position < XERIAL_HEADER_BYTES) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (bytes[position + i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** The uncompressed length a raw snappy block declares (its leading varint). */
function declaredLength(block: Uint8Array): number {
  let value = 0;
  for (let i = 0; i < MAX_LENGTH_VARINT_BYTES && i < block.length; i++) {
    const byte = block[i];
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (value > 0xffffffff) break;
      return value;
    }
  }
  return fail(`a block of ${block.length} bytes does not start with a valid length varint`);
}

function compressXerial(snappy: typeof SnappyNapi, input: Uint8Array): Buffer {
  const parts: Buffer[] = [Buffer.alloc(XERIAL_HEADER_BYTES)];
  parts[0].set(XERIAL_MAGIC, 0);
  parts[0].writeInt32BE(XERIAL_VERSION, XERIAL_MAGIC.length);
  parts[0].writeInt32BE(XERIAL_COMPATIBLE_VERSION, XERIAL_MAGIC.length + 4);
  let total = XERIAL_HEADER_BYTES;
  for (let start = 0; start < input.length; start += XERIAL_BLOCK_BYTES) {
    const block = snappy.compressSync(input.subarray(start, Math.min(start + XERIAL_BLOCK_BYTES, input.length)), COPY_OUTPUT);
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
    total += 4 + block.length;
  }
  return Buffer.concat(parts, total);
}

/** The raw blocks of a xerial stream, checked for length; concatenated streams are walked through. */
function xerialBlocks(view: Buffer): Buffer[] {
  const blocks: Buffer[] = [];
  let position = 0;
  while (position < view.length) {
    if (startsWithXerialMagic(view, position)) {
      const version = view.readInt32BE(position + XERIAL_MAGIC.length);
      if (version < XERIAL_COMPATIBLE_VERSION) fail(`stream version ${version} is older than ${XERIAL_COMPATIBLE_VERSION}`);
      position += XERIAL_HEADER_BYTES;
      continue;
    }
    if (view.length - position < 4) fail(`stream ends inside a block length at byte ${position}`);
    const length = view.readInt32BE(position);
    position += 4;
    if (length < 0 || length > view.length - position) fail(`block length ${length} at byte ${position - 4} runs past the end (${view.length - position} bytes left)`);
    blocks.push(view.subarray(position, position + length));
    position += length;
  }
  return blocks;
}

function decompress(snappy: typeof SnappyNapi, bytes: Uint8Array, maxOutputBytes: number): Buffer {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks = startsWithXerialMagic(view, 0) ? xerialBlocks(view) : [view];
  let total = 0;
  for (const block of blocks) {
    total += declaredLength(block);
    if (total > maxOutputBytes) fail(`blocks declare ${total} or more bytes, over the ${maxOutputBytes}-byte limit`);
  }
  const outputs = blocks.map((block) => {
    try {
      return snappy.uncompressSync(block, { ...COPY_OUTPUT, asBuffer: true }) as Buffer;
    } catch (err) {
      return fail(`block of ${block.length} bytes is corrupt: ${(err as Error).message}`);
    }
  });
  // snap checks each block against its declared length; a mismatch here would mean zero-filled output.
  if (outputs.reduce((sum, out) => sum + out.length, 0) !== total) fail('blocks decode to other lengths than they declare');
  return outputs.length === 1 ? outputs[0] : Buffer.concat(outputs, total);
}

/** Kafka's snappy codec over the `snappy` package (napi-rs, Rust's snap crate) for raw blocks. */
export function createSnappyCodec(snappy: typeof SnappyNapi): CompressionCodec {
  return {
    compress: (bytes) => compressXerial(snappy, bytes),
    decompress: (bytes, maxOutputBytes) => decompress(snappy, bytes, maxOutputBytes),
  };
}
