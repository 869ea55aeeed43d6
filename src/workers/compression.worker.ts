/**
 * Compression: a piscina task, run on the CompressionPool's threads (shared/compression-pool.ts),
 * that brings one RecordBatch v2 to a wanted compression: compresses its records, or with `none`
 * decompresses them.
 *
 * In:  CompressionTask { batch, compression, maxOutputBytes }; the batch arrives cloned or
 *      transferred, so this thread owns it.
 * Out: the new batch, moved (transferred, not copied) back to the caller's thread; or a WireError,
 *      so the caller rebuilds the same error class (CorruptRecordError, UnsupportedCompressionError).
 * Between tasks: piscina parks the thread in Atomics.wait (atomics 'sync'). Nothing here needs the
 *      event loop: no timers, ports or logging; a codec's package loads on its first task.
 */
import { Piscina } from 'piscina';
import type { CompressionTask, CompressionTaskResult } from '../shared/compression-pool.js';
import { errorToWire } from '../shared/errors.js';
import { compressBatchSync, decompressBatchSync } from '../shared/record-batch/batch-compression.js';
import { Compression } from '../shared/record-batch/layout.js';

export default function compressionTask({ batch, compression, maxOutputBytes }: CompressionTask): CompressionTaskResult {
  let out: Uint8Array;
  try {
    out = compression === Compression.none ? decompressBatchSync(batch, maxOutputBytes) : compressBatchSync(batch, compression);
  } catch (err) {
    return errorToWire(err);
  }
  // Move only what this thread owns whole; a view (the input returned as is) is copied by the clone.
  const movable = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength;
  return movable ? (Piscina.move(out) as Uint8Array) : out;
}
