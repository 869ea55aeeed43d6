// CompressionPool with real piscina threads running dist/workers/compression.worker.js (npm test
// builds first): round trips per codec, what runs on a thread and what does not, the caller's
// buffers left intact, typed errors across the hop, back-pressure, and close().
import { describe, expect, it } from 'vitest';
import { CompressionPool } from '../../src/shared/compression-pool.js';
import { ConfigError, CorruptRecordError, IllegalStateError, RinglogError, UnsupportedCompressionError } from '../../src/shared/errors.js';
import {
  Compression,
  type CompressionId,
  type RecordInput,
  compressBatchSync,
  readBatchHeader,
} from '../../src/shared/record-batch/index.js';
import { buildBatch, plain, rawBatch, readAll } from './record-batch/helpers.js';

const CODECS = [
  ['gzip', Compression.gzip],
  ['snappy', Compression.snappy],
  ['lz4', Compression.lz4],
  ['zstd', Compression.zstd],
] as const;

function records(count: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    timestamp: 1_700_000_000_000 + i,
    key: Buffer.from(`key-${i % 97}`),
    value: Buffer.from(JSON.stringify({ id: i, kind: ['a', 'b', 'c'][i % 3], amount: (i * 7919) % 10_000 })),
  }));
}

/** Runs `body` with a fresh pool, closed afterwards whatever happens. */
async function withPool(body: (pool: CompressionPool) => Promise<void>, options: ConstructorParameters<typeof CompressionPool>[0] = {}): Promise<void> {
  const pool = new CompressionPool(options);
  try {
    await body(pool);
  } finally {
    await pool.close();
  }
}

describe('CompressionPool', () => {
  it.each(CODECS)('%s: compressBatch then decompressBatch on a pool thread gives back the same batch', async (_, compression) => {
    await withPool(async (pool) => {
      const original = buildBatch(records(200), { producerId: 12, producerEpoch: 1, baseSequence: 40, isTransactional: true });
      const compressed = await pool.compressBatch(original, compression);
      expect(pool.threads).toBe(1);
      expect(Buffer.isBuffer(compressed)).toBe(true);
      expect(readBatchHeader(compressed)).toMatchObject({ compression, producerId: 12, baseSequence: 40, isTransactional: true, recordsCount: 200 });
      expect(compressed.equals(compressBatchSync(original, compression))).toBe(true);
      expect(readAll(compressed).map(plain)).toEqual(readAll(original).map(plain));
      expect((await pool.decompressBatch(compressed)).equals(original)).toBe(true);
    });
  });

  it('answers work that needs no codec on the calling thread, without starting one', async () => {
    await withPool(async (pool) => {
      const original = buildBatch(records(5));
      expect((await pool.compressBatch(original, Compression.none)).buffer).toBe(original.buffer);
      expect((await pool.decompressBatch(original)).buffer).toBe(original.buffer);
      await expect(pool.decompressBatch(original.subarray(0, 20))).rejects.toThrow(CorruptRecordError);
      expect(pool.threads).toBe(0);
    });
  });

  it("leaves the caller's buffers whole: a view into a larger buffer, a slab Buffer, shared memory", async () => {
    await withPool(async (pool) => {
      const batch = buildBatch(records(50));
      const large = Buffer.alloc(1 << 20);
      const view = large.subarray(1000, 1000 + batch.length);
      batch.copy(view);
      const slab = Buffer.allocUnsafe(batch.length); // may sit in Node's shared pool slab
      batch.copy(slab);
      const shared = new Uint8Array(new SharedArrayBuffer(batch.length));
      shared.set(batch);
      const whole = new Uint8Array(batch);
      for (const input of [view, slab, shared, whole]) {
        const compressed = await pool.compressBatch(input, Compression.lz4);
        expect(readAll(compressed).map(plain)).toEqual(readAll(batch).map(plain));
        expect(input.byteLength).toBe(batch.length); // not detached by a transfer
        expect(Buffer.from(input).equals(batch)).toBe(true);
      }
      expect(large.byteLength).toBe(1 << 20);
    });
  });

  it('runs many tasks at once on two threads', async () => {
    await withPool(
      async (pool) => {
        const batches = Array.from({ length: 40 }, (_, i) => buildBatch(records(20 + i)));
        const results = await Promise.all(batches.map((batch, i) => pool.compressBatch(batch, CODECS[i % 4][1])));
        const back = await Promise.all(results.map((compressed) => pool.decompressBatch(compressed)));
        back.forEach((batch, i) => expect(batch.equals(batches[i])).toBe(true));
        expect(pool.threads).toBeLessThanOrEqual(2);
      },
      { maxThreads: 2 },
    );
  });

  it('errors cross the thread hop as their own class and code', async () => {
    await withPool(async (pool) => {
      const garbage = rawBatch(Buffer.from('not an lz4 frame at all'), 1, Compression.lz4);
      const corrupt = await pool.decompressBatch(garbage).catch((err: unknown) => err);
      expect(corrupt).toBeInstanceOf(CorruptRecordError);
      expect(corrupt).toMatchObject({ code: 'ERR_CORRUPT_RECORD', message: expect.stringMatching(/lz4 records do not decompress/) });

      const bomb = compressBatchSync(buildBatch([{ timestamp: 1, key: null, value: Buffer.alloc(4 << 20) }], { capacityBytes: 5 << 20 }), Compression.zstd);
      await expect(pool.decompressBatch(bomb, 1 << 20)).rejects.toThrow(/over the 1048576-byte limit/);

      const unsupported = await pool.compressBatch(buildBatch(records(2)), 6 as CompressionId).catch((err: unknown) => err);
      expect(unsupported).toBeInstanceOf(UnsupportedCompressionError);
      expect(unsupported).toMatchObject({ code: 'ERR_UNSUPPORTED_COMPRESSION', compression: 6 });
    });
  });

  it('refuses tasks beyond maxPendingTasks instead of queueing without limit', async () => {
    await withPool(
      async (pool) => {
        const batch = buildBatch(records(100));
        const accepted = [pool.compressBatch(batch, Compression.zstd), pool.compressBatch(batch, Compression.zstd)];
        const refused = await pool.compressBatch(batch, Compression.zstd).catch((err: unknown) => err);
        expect(refused).toBeInstanceOf(RinglogError);
        expect(refused).toMatchObject({ code: 'ERR_COMPRESSION_QUEUE_FULL', retriable: true });
        await Promise.all(accepted);
      },
      { maxPendingTasks: 2 },
    );
  });

  it('close() lets tasks already asked for finish, ends every thread, and refuses later calls', async () => {
    const pool = new CompressionPool({ maxThreads: 2 });
    const batch = buildBatch(records(300));
    const inFlight = CODECS.map(([, compression]) => pool.compressBatch(batch, compression));
    const closing = pool.close();
    const results = await Promise.all(inFlight);
    await closing;
    results.forEach((compressed, i) => expect(readBatchHeader(compressed).compression).toBe(CODECS[i][1]));
    expect(pool.threads).toBe(0);
    await expect(pool.compressBatch(batch, Compression.lz4)).rejects.toThrow(IllegalStateError);
    await pool.close(); // idempotent
  });

  it('names a bad option', () => {
    expect(() => new CompressionPool({ maxThreads: 0 })).toThrow(ConfigError);
    expect(() => new CompressionPool({ maxThreads: 0 })).toThrow(/maxThreads: must be a positive integer, got 0/);
  });
});
