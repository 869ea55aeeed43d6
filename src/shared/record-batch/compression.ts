/**
 * The codec registry for compressed record batches: one `{ compress, decompress }` per compression
 * id. gzip (node:zlib) is registered here; snappy, lz4 and zstd can be registered later by whoever
 * brings a library for them, without touching the builder or the reader.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { UnsupportedCompressionError } from '../errors.js';
import { COMPRESSION_NAMES, Compression, type CompressionId } from './layout.js';

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

/** Registers (or replaces) the codec for a compression id other than none. */
export function registerCodec(compression: Exclude<CompressionId, typeof Compression.none>, codec: CompressionCodec): void {
  // Callers outside TypeScript can still pass 0 or 5-7.
  if (!isKnownCompression(compression) || (compression as number) === Compression.none) {
    throw new RangeError(`cannot register a codec for compression id ${compression}`);
  }
  codecs[compression] = codec;
}

/** The codec for a compression id, or null when none is registered. */
export function tryCodecFor(compression: number): CompressionCodec | null {
  return codecs[compression] ?? null;
}

/** The codec for a compression id; UnsupportedCompressionError when none is registered. */
export function codecFor(compression: number): CompressionCodec {
  const codec = tryCodecFor(compression);
  if (codec === null) throw unsupported(compression);
  return codec;
}
