/**
 * The codec registry for compressed record batches: one `{ compress, decompress }` per compression
 * id, in Kafka's formats. gzip goes through node:zlib; snappy (xerial framing), lz4 (LZ4 frame) and
 * zstd through napi-rs packages (see codecs/), which are loaded on first use: a process that never
 * meets them never loads them, and a platform without their binaries fails with
 * UnsupportedCompressionError naming the package rather than at import. registerCodec replaces any
 * of them without touching the builder or the reader.
 */
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CorruptRecordError, UnsupportedCompressionError } from '../errors.js';
import { createLz4Codec } from './codecs/lz4.js';
import { createSnappyCodec } from './codecs/snappy.js';
import { createZstdCodec } from './codecs/zstd.js';
import type { RecordBatchHeader } from './header.js';
import { COMPRESSION_NAMES, Compression, type CompressionId, RECORD_BATCH_OVERHEAD } from './layout.js';

export interface CompressionCodec {
  /** Compresses a whole records section. */
  compress(bytes: Uint8Array): Buffer;
  /**
   * Decompresses a records section. Must throw rather than produce more than `maxOutputBytes`
   * (the input is untrusted; a small bomb must not become a huge allocation), and must throw on
   * input that is not valid for the codec.
   */
  decompress(bytes: Uint8Array, maxOutputBytes: number): Buffer;
}

export { UnsupportedCompressionError };

/** The error for a compression with no codec registered, naming it and the way out. */
function unsupported(compression: number): UnsupportedCompressionError {
  return new UnsupportedCompressionError(
    compression,
    `no codec is registered for compression ${compressionName(compression)} (${compression}); register one with registerCodec()`,
  );
}

/** The compression's name, or `unknown` for ids 5-7. */
export function compressionName(compression: number): string {
  return COMPRESSION_NAMES[compression] ?? 'unknown';
}

/** True for the ids Kafka defines (0-4); 5-7 are not a compression at all. */
export function isKnownCompression(compression: number): compression is CompressionId {
  return COMPRESSION_NAMES[compression] !== undefined;
}

const gzipCodec: CompressionCodec = {
  compress: (bytes) => gzipSync(bytes),
  decompress: (bytes, maxOutputBytes) => gunzipSync(bytes, { maxOutputLength: Math.max(1, maxOutputBytes) }),
};

// Indexed by the 3 compression bits; `none` never has a codec.
const codecs: (CompressionCodec | undefined)[] = new Array(8).fill(undefined);
codecs[Compression.gzip] = gzipCodec;

// The native packages are CommonJS (napi-rs loaders that pick the platform's binary package).
const requireNative = createRequire(import.meta.url);

/** Codecs whose package is loaded the first time codecFor asks for them. */
const nativeCodecs: Partial<Record<number, { packageName: string; create: () => CompressionCodec }>> = {
  [Compression.snappy]: { packageName: 'snappy', create: () => createSnappyCodec(requireNative('snappy')) },
  [Compression.lz4]: { packageName: 'lz4-napi', create: () => createLz4Codec(requireNative('lz4-napi')) },
  [Compression.zstd]: { packageName: '@toondepauw/node-zstd', create: () => createZstdCodec(requireNative('@toondepauw/node-zstd')) },
};

function loadNativeCodec(compression: number): CompressionCodec | undefined {
  const native = nativeCodecs[compression];
  if (native === undefined) return undefined;
  try {
    codecs[compression] = native.create();
  } catch (err) {
    throw new UnsupportedCompressionError(
      compression,
      `${compressionName(compression)} needs the ${native.packageName} package, which did not load: ${(err as Error).message}`,
    );
  }
  delete nativeCodecs[compression];
  return codecs[compression];
}

/** Registers (or replaces) the codec for a compression id other than none. */
export function registerCodec(compression: Exclude<CompressionId, typeof Compression.none>, codec: CompressionCodec): void {
  // Callers outside TypeScript can still pass 0 or 5-7.
  if (!isKnownCompression(compression) || (compression as number) === Compression.none) {
    throw new RangeError(`cannot register a codec for compression id ${compression}`);
  }
  codecs[compression] = codec;
  delete nativeCodecs[compression];
}

/**
 * The codec for a compression id, or null when none is registered. Loads a built-in codec's
 * package on first use (UnsupportedCompressionError when that package does not load).
 */
export function tryCodecFor(compression: number): CompressionCodec | null {
  return codecs[compression] ?? loadNativeCodec(compression) ?? null;
}

/** The codec for a compression id; UnsupportedCompressionError when none is registered. */
export function codecFor(compression: number): CompressionCodec {
  const codec = tryCodecFor(compression);
  if (codec === null) throw unsupported(compression);
  return codec;
}

/**
 * The records section of a compressed batch, decompressed with its codec: at most
 * `maxDecompressedBytes`, and any failure of the codec (bad stream, over the limit) a
 * CorruptRecordError naming the batch; UnsupportedCompressionError when no codec is available.
 */
export function decompressRecords(batch: RecordBatchHeader, maxDecompressedBytes: number): Buffer {
  const compressed = batch.bytes.subarray(RECORD_BATCH_OVERHEAD);
  // Kafka's compressed layout is recordsCount then the compressed stream; an empty batch is legal.
  if (batch.recordsCount === 0 && compressed.length === 0) return compressed;
  const codec = codecFor(batch.compression);
  let out: Buffer;
  try {
    out = codec.decompress(compressed, maxDecompressedBytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CorruptRecordError(`batch at byte ${batch.position}: ${compressionName(batch.compression)} records do not decompress (${reason})`);
  }
  if (out.length > maxDecompressedBytes) {
    throw new CorruptRecordError(`batch at byte ${batch.position}: records decompress to ${out.length} bytes, over the ${maxDecompressedBytes}-byte limit`);
  }
  return out;
}
