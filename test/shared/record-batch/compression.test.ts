// Kafka's snappy, lz4 and zstd: round trips through the builder and the reader, the framing Kafka's
// clients write and read, other encoders' output (the lz4 and zstd reference CLIs, lz4-napi's frame
// encoder and decoder, raw snappy), whole-batch (de)compression, and bad or hostile input, which
// must only ever be a CorruptRecordError.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptRecordError } from '../../../src/shared/errors.js';
import { xxhash32 } from '../../../src/shared/record-batch/codecs/xxhash32.js';
import {
  Compression,
  RECORD_BATCH_OVERHEAD,
  type RecordInput,
  codecFor,
  compressBatchSync,
  decompressBatchSync,
  readBatchHeader,
  readRecords,
} from '../../../src/shared/record-batch/index.js';
import { buildBatch, plain, rawBatch, readAll, recordArb } from './helpers.js';

const requireCjs = createRequire(import.meta.url);
const snappy = requireCjs('snappy') as typeof import('snappy');
const lz4 = requireCjs('lz4-napi') as typeof import('lz4-napi');

const CODECS = [
  ['snappy', Compression.snappy],
  ['lz4', Compression.lz4],
  ['zstd', Compression.zstd],
] as const;

const fixtures = JSON.parse(readFileSync(new URL('../../fixtures/record-batch/cli-frames.json', import.meta.url), 'utf8')) as {
  plain: string;
  lz4ContentSizeAndChecksums: string;
  zstdContentSizeAndChecksum: string;
  zstdTwoFramesAndSkippable: string;
};
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** Whether a reference CLI is installed (the interop checks against it are skipped where it is not). */
const hasCli = (name: string): boolean => spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
const decodeWithCli = (cli: string, bytes: Uint8Array): Buffer => {
  const result = spawnSync(cli, ['-d', '-c'], { input: bytes, maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`${cli} -d failed: ${result.stderr.toString()}`);
  return result.stdout;
};

/** `count` JSON-ish records of about 100 bytes: compressible as real payloads are, not all zeros. */
function realisticRecords(count: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    timestamp: 1_700_000_000_000 + i * 3,
    key: Buffer.from(`user-${(i * 7919) % 5000}`),
    value: Buffer.from(JSON.stringify({ id: i, event: ['click', 'view', 'buy'][i % 3], page: `/p/${(i * 31) % 997}`, ms: (i * 104729) % 100_000 })),
    headers: i % 4 === 0 ? [{ key: 'trace', value: Buffer.from((i * 2654435761).toString(16)) }] : [],
  }));
}

/** The records section of `count` realistic records, uncompressed. */
function recordsSection(count: number): Buffer {
  return buildBatch(realisticRecords(count), { capacityBytes: 4 << 20 }).subarray(RECORD_BATCH_OVERHEAD);
}

/** Reads every record of `batch`; lets through only CorruptRecordError. */
function readOrCorrupt(batch: Buffer): void {
  try {
    for (const record of readRecords(readBatchHeader(batch), { maxDecompressedBytes: 1 << 20 })) void record.value?.length;
  } catch (err) {
    if (!(err instanceof CorruptRecordError)) throw err;
  }
}

describe('round trips through the builder and the reader', () => {
  it.each(CODECS)('%s: random records', (_, compression) => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 30 }), (records) => {
        const batch = buildBatch(records, { capacityBytes: 64 * 1024, compression });
        expect(readBatchHeader(batch).compression).toBe(compression);
        const read = readAll(batch);
        expect(read.map(plain)).toEqual(records.map(plain));
        expect(read.map((r) => r.timestamp)).toEqual(records.map((r) => r.timestamp));
      }),
      { numRuns: 100 },
    );
  });

  it.each(CODECS)('%s: 3,000 realistic records (several codec blocks) shrink and read back', (_, compression) => {
    const records = realisticRecords(3000);
    const uncompressed = buildBatch(records, { capacityBytes: 4 << 20 });
    const batch = buildBatch(records, { capacityBytes: 4 << 20, compression });
    expect(uncompressed.length).toBeGreaterThan(200 * 1024);
    expect(batch.length).toBeLessThan(uncompressed.length / 2);
    expect(readAll(batch).map(plain)).toEqual(records.map(plain));
  });
});

describe('compressBatchSync and decompressBatchSync', () => {
  const options = { baseOffset: 4242, partitionLeaderEpoch: 7, producerId: 99, producerEpoch: 3, baseSequence: 17, isTransactional: true };

  it.each(CODECS)('%s: keeps every header field, rewrites codec bits, length and CRC, and inverts exactly', (_, compression) => {
    const original = buildBatch(realisticRecords(150), options);
    const compressed = compressBatchSync(original, compression);
    const before = readBatchHeader(original);
    const after = readBatchHeader(compressed); // validates the new length and CRC
    expect(after.compression).toBe(compression);
    expect(after.attributes).toBe(before.attributes | compression);
    expect(compressed.length).toBeLessThan(original.length);
    const { bytes: _b, sizeInBytes: _s, batchLength: _l, crc: _c, attributes: _a, compression: _x, ...fieldsBefore } = before;
    const { bytes: _b2, sizeInBytes: _s2, batchLength: _l2, crc: _c2, attributes: _a2, compression: _x2, ...fieldsAfter } = after;
    expect(fieldsAfter).toEqual(fieldsBefore);
    expect(readAll(compressed).map(plain)).toEqual(readAll(original).map(plain));
    expect(decompressBatchSync(compressed).equals(original)).toBe(true);
  });

  it('keeps the control bit of a control batch', () => {
    const control = buildBatch([{ timestamp: 5, key: Buffer.of(0, 0, 0, 1), value: Buffer.of(0, 0, 0, 0, 0, 9) }], { isControl: true, isTransactional: true, producerId: 5 });
    const compressed = compressBatchSync(control, Compression.zstd);
    expect(readBatchHeader(compressed)).toMatchObject({ isControl: true, isTransactional: true, producerId: 5 });
    expect(decompressBatchSync(compressed).equals(control)).toBe(true);
  });

  it('returns a batch already in the wanted form as is, over the same memory', () => {
    const original = buildBatch(realisticRecords(10));
    expect(compressBatchSync(original, Compression.none).buffer).toBe(original.buffer);
    expect(decompressBatchSync(original).buffer).toBe(original.buffer);
    const lz4Batch = compressBatchSync(original, Compression.lz4);
    expect(compressBatchSync(lz4Batch, Compression.lz4).buffer).toBe(lz4Batch.buffer);
  });

  it('recompresses a batch in another codec (gzip to lz4), as a broker does for a topic compression.type', () => {
    const gzipped = buildBatch(realisticRecords(50), { compression: Compression.gzip });
    const recoded = compressBatchSync(gzipped, Compression.lz4);
    expect(readBatchHeader(recoded).compression).toBe(Compression.lz4);
    expect(readAll(recoded).map(plain)).toEqual(readAll(gzipped).map(plain));
  });

  it('results own their whole ArrayBuffer (so the pool can move them)', () => {
    const out = compressBatchSync(buildBatch(realisticRecords(3)), Compression.snappy);
    expect(out.byteOffset).toBe(0);
    expect(out.byteLength).toBe(out.buffer.byteLength);
  });

  it('refuses what is not exactly one valid batch', () => {
    const batch = buildBatch(realisticRecords(3));
    expect(() => compressBatchSync(Buffer.concat([batch, Buffer.of(0)]), Compression.lz4)).toThrow(/batchLength says \d+ bytes, but \d+ were given/);
    const flipped = Buffer.from(batch);
    flipped[70] ^= 1;
    expect(() => compressBatchSync(flipped, Compression.lz4)).toThrow(CorruptRecordError);
    expect(() => decompressBatchSync(batch.subarray(0, 30))).toThrow(CorruptRecordError);
  });
});

describe('decompressBatchSync against KafkaJS (an encoder nobody here wrote)', () => {
  const { RecordBatch } = requireCjs('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
  const KafkaJSRecord = requireCjs('kafkajs/src/protocol/recordBatch/record/v0') as (options: Record<string, unknown>) => unknown;
  const Long = requireCjs('kafkajs/src/utils/long') as { fromNumber(n: number): unknown };
  const { CompressionTypes } = requireCjs('kafkajs') as { CompressionTypes: { None: number; GZIP: number } };
  const encode = async (compression: number): Promise<Buffer> => {
    const records = realisticRecords(40);
    const batch = await RecordBatch({
      compression,
      firstOffset: Long.fromNumber(300),
      firstTimestamp: records[0].timestamp,
      maxTimestamp: records[39].timestamp,
      lastOffsetDelta: 39,
      producerId: Long.fromNumber(8),
      producerEpoch: 2,
      firstSequence: 11,
      records: records.map((r, i) => KafkaJSRecord({ offsetDelta: i, timestampDelta: r.timestamp - records[0].timestamp, key: r.key, value: r.value, headers: {} })),
    });
    return batch.buffer;
  };

  it("turns KafkaJS's gzip batch into exactly the bytes of its uncompressed batch of the same records", async () => {
    const [gzipped, uncompressed] = await Promise.all([encode(CompressionTypes.GZIP), encode(CompressionTypes.None)]);
    expect(decompressBatchSync(gzipped).equals(uncompressed)).toBe(true);
    for (const [, compression] of CODECS) expect(decompressBatchSync(compressBatchSync(uncompressed, compression)).equals(uncompressed)).toBe(true);
  });
});

describe('snappy: the xerial framing of snappy-java', () => {
  it('writes the 16-byte header, then [int32 BE length][raw snappy block] per 32 KiB of input', () => {
    const input = recordsSection(1500);
    expect(input.length).toBeGreaterThan(3 * 32 * 1024);
    const out = codecFor(Compression.snappy).compress(input);
    expect(out.subarray(0, 16).toString('hex')).toBe('82534e41505059000000000100000001');
    let position = 16;
    let decoded = 0;
    while (position < out.length) {
      const length = out.readInt32BE(position);
      const block = snappy.uncompressSync(out.subarray(position + 4, position + 4 + length), { asBuffer: true }) as Buffer;
      expect(block.equals(input.subarray(decoded, decoded + 32 * 1024))).toBe(true);
      decoded += block.length;
      position += 4 + length;
    }
    expect(position).toBe(out.length);
    expect(decoded).toBe(input.length);
  });

  it('reads raw snappy (what some clients write) as well', () => {
    const records = realisticRecords(40);
    const raw = snappy.compressSync(recordsSection(40));
    expect(readAll(rawBatch(raw, records.length, Compression.snappy)).map(plain)).toEqual(records.map(plain));
  });

  it('reads concatenated xerial streams, as snappy-java does', () => {
    const codec = codecFor(Compression.snappy);
    const input = recordsSection(100);
    const half = Math.floor(input.length / 2);
    const twoStreams = Buffer.concat([codec.compress(input.subarray(0, half)), codec.compress(input.subarray(half))]);
    expect(codec.decompress(twoStreams, 1 << 20).equals(input)).toBe(true);
  });

  it('an empty records section is the header alone', () => {
    const codec = codecFor(Compression.snappy);
    const out = codec.compress(Buffer.alloc(0));
    expect(out.length).toBe(16);
    expect(codec.decompress(out, 10).length).toBe(0);
  });
});

describe('lz4: one standard LZ4 frame as Kafka writes it', () => {
  const codec = (): ReturnType<typeof codecFor> => codecFor(Compression.lz4);

  it('starts with the magic, FLG 0x60 (version 1, independent blocks), BD 0x40 (64 KiB) and the correct header checksum', () => {
    const out = codec().compress(recordsSection(20));
    expect(out.subarray(0, 7).toString('hex')).toBe('04224d18604082');
    expect(out[6]).toBe((xxhash32(out, 4, 6) >>> 8) & 0xff);
    expect(out.readUInt32LE(out.length - 4)).toBe(0); // end mark, no content checksum
  });

  it('cuts 64 KiB blocks and stores incompressible ones raw (high bit of the size)', () => {
    const random = randomBytes(150 * 1024);
    const out = codec().compress(random);
    const sizes: number[] = [];
    for (let position = 7; out.readUInt32LE(position) !== 0; ) {
      const word = out.readUInt32LE(position);
      sizes.push(word);
      position += 4 + (word & 0x7fffffff);
    }
    expect(sizes.map((w) => w & 0x7fffffff)).toEqual([65536, 65536, 150 * 1024 - 131072]);
    expect(sizes.every((w) => w >>> 31 === 1)).toBe(true);
    expect(codec().decompress(out, 1 << 20).equals(random)).toBe(true);
  });

  it('a standard LZ4 frame decoder reads ours (lz4_flex through lz4-napi)', () => {
    const input = recordsSection(2000);
    expect(lz4.decompressFrameSync(codec().compress(input)).equals(input)).toBe(true);
  });

  it.skipIf(!hasCli('lz4'))('the lz4 reference CLI reads ours', () => {
    const input = recordsSection(2000);
    expect(decodeWithCli('lz4', codec().compress(input)).equals(input)).toBe(true);
  });

  it('reads frames with content size, block and content checksums (made by the lz4 CLI)', () => {
    expect(codec().decompress(hex(fixtures.lz4ContentSizeAndChecksums), 1 << 20).toString()).toBe(fixtures.plain);
  });

  it("reads lz4-napi's own frames (4 MiB blocks for large input)", () => {
    const input = recordsSection(3000);
    const frame = lz4.compressFrameSync(input, { contentChecksum: true, blockChecksums: true });
    expect(codec().decompress(frame, 1 << 22).equals(input)).toBe(true);
  });

  it("refuses Kafka 0.8's broken header checksum (computed over the magic too), dependent blocks and a bad content checksum", () => {
    const ours = codec().compress(recordsSection(20));
    const broken = Buffer.from(ours);
    broken[6] = (xxhash32(broken, 0, 6) >>> 8) & 0xff;
    expect(() => codec().decompress(broken, 1 << 20)).toThrow(/header checksum mismatch/);
    const dependent = Buffer.from(ours);
    dependent[4] = 0x40;
    dependent[6] = (xxhash32(dependent, 4, 6) >>> 8) & 0xff;
    expect(() => codec().decompress(dependent, 1 << 20)).toThrow(/dependent blocks are not supported/);
    const cli = hex(fixtures.lz4ContentSizeAndChecksums);
    cli[cli.length - 1] ^= 0xff;
    expect(() => codec().decompress(cli, 1 << 20)).toThrow(/content checksum mismatch/);
  });
});

describe('zstd: a standard zstd frame', () => {
  const codec = (): ReturnType<typeof codecFor> => codecFor(Compression.zstd);

  it('writes a frame (magic 0xFD2FB528) that round-trips', () => {
    const input = recordsSection(500);
    const out = codec().compress(input);
    expect(out.readUInt32LE(0)).toBe(0xfd2fb528);
    expect(codec().decompress(out, input.length).equals(input)).toBe(true);
  });

  it.skipIf(!hasCli('zstd'))('the zstd reference CLI reads ours', () => {
    const input = recordsSection(2000);
    expect(decodeWithCli('zstd', codec().compress(input)).equals(input)).toBe(true);
  });

  it('reads frames made by the zstd CLI: content size and checksum; two frames around a skippable one', () => {
    expect(codec().decompress(hex(fixtures.zstdContentSizeAndChecksum), 1 << 20).toString()).toBe(fixtures.plain);
    expect(codec().decompress(hex(fixtures.zstdTwoFramesAndSkippable), 1 << 20).toString()).toBe(fixtures.plain);
  });
});

describe('bad input: only CorruptRecordError, never another error or a crash', () => {
  it.each(CODECS)('%s: every truncation of a compressed records section', (_, compression) => {
    const records = realisticRecords(30);
    const compressed = codecFor(compression).compress(recordsSection(30));
    for (let length = 0; length < compressed.length; length++) {
      const batch = rawBatch(compressed.subarray(0, length), records.length, compression);
      expect(() => readAll(batch), `${length} of ${compressed.length} bytes`).toThrow(CorruptRecordError);
    }
  });

  it.each(CODECS)('%s: mutated compressed sections (CRC fixed, so they reach the codec)', (_, compression) => {
    const records = realisticRecords(60);
    const compressed = codecFor(compression).compress(recordsSection(60));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), { minLength: 1, maxLength: 5 }), (mutations) => {
        let section = Buffer.from(compressed);
        for (const [at, byte, insert] of mutations) {
          const i = at % section.length;
          if (insert) section = Buffer.concat([section.subarray(0, i), Buffer.of(byte), section.subarray(i)]);
          else section[i] = byte;
        }
        readOrCorrupt(rawBatch(section, records.length, compression));
      }),
      { numRuns: 300 },
    );
  });

  it.each(CODECS)('%s: random bytes, and random bytes behind the codec\'s own header', (_, compression) => {
    const header = codecFor(compression).compress(Buffer.alloc(0)).subarray(0, compression === Compression.lz4 ? 7 : compression === Compression.zstd ? 6 : 16);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.integer({ min: 1, max: 20 }), (bytes, withHeader, count) => {
        readOrCorrupt(rawBatch(withHeader ? Buffer.concat([header, bytes]) : bytes, count, compression));
      }),
      { numRuns: 300 },
    );
  });
});

describe('decompression bombs stop at the limit', () => {
  it.each(CODECS)('%s: 8 MiB of zeros is refused under a 1 MiB limit; the exact size passes, one byte less does not', (_, compression) => {
    const codec = codecFor(compression);
    const bomb = codec.compress(Buffer.alloc(8 << 20));
    expect(bomb.length).toBeLessThan(512 * 1024);
    expect(() => readRecords(readBatchHeader(rawBatch(bomb, 1, compression)), { maxDecompressedBytes: 1 << 20 })).toThrow(CorruptRecordError);
    expect(() => codec.decompress(bomb, 1 << 20)).toThrow(/limit/);
    expect(codec.decompress(bomb, 8 << 20).equals(Buffer.alloc(8 << 20))).toBe(true); // runs: overlapping matches
    const input = recordsSection(200);
    const compressed = codec.compress(input);
    expect(codec.decompress(compressed, input.length).equals(input)).toBe(true);
    expect(() => codec.decompress(compressed, input.length - 1)).toThrow(/limit/);
  });

  it('snappy: a block declaring 4 GiB is refused before anything is decoded', () => {
    const raw = Buffer.of(0xff, 0xff, 0xff, 0xff, 0x0f, 0x00);
    expect(() => codecFor(Compression.snappy).decompress(raw, 64 << 20)).toThrow(/4294967295 or more bytes, over the 67108864-byte limit/);
  });

  it('lz4: a frame claiming a 1 TiB content size is refused from its header', () => {
    const frame = Buffer.from('04224d186840' + '0000000000010000' + '00' + '00000000', 'hex');
    frame[14] = (xxhash32(frame, 4, 14) >>> 8) & 0xff;
    expect(() => codecFor(Compression.lz4).decompress(frame, 64 << 20)).toThrow(/content size Infinity is over the 67108864-byte limit/);
  });

  it('zstd: 2,000 RLE blocks of 128 KiB (8 KB that would decode to 256 MiB) are refused before decoding', () => {
    const blockHeader = (((128 * 1024) << 3) | (1 << 1)) >>> 0; // RLE, 128 KiB
    const blocks = Buffer.alloc(2000 * 4);
    for (let i = 0; i < 2000; i++) {
      blocks.writeUIntLE(blockHeader | (i === 1999 ? 1 : 0), i * 4, 3);
      blocks[i * 4 + 3] = 0x61;
    }
    const frame = Buffer.concat([Buffer.from('28b52ffd' + '00' + '58', 'hex'), blocks]); // no content size, 2 MiB window
    expect(() => codecFor(Compression.zstd).decompress(frame, 64 << 20)).toThrow(/can decode to 262144000 bytes, over the 67108864-byte limit/);
  });
});

describe('xxhash32', () => {
  it('matches the reference vectors', () => {
    expect(xxhash32(Buffer.from(''))).toBe(0x02cc5d05);
    expect(xxhash32(Buffer.from('a'))).toBe(0x550d7456);
    expect(xxhash32(Buffer.from('abc'))).toBe(0x32d153ff);
    expect(xxhash32(Buffer.from('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });
});
