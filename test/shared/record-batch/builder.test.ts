// RecordBatchBuilder: exact bytes, header fields, capacity and fullness, compression, the broker's
// in-place patches, and builder → reader round trips.
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/shared/crc32c.js';
import { IllegalStateError } from '../../../src/shared/errors.js';
import {
  Compression,
  type CompressionId,
  RECORD_BATCH_OVERHEAD,
  RecordBatchBuilder,
  TimestampType,
  UnsupportedCompressionError,
  batchSizeUpperBoundInBytes,
  peekBaseOffset,
  peekBatchSizeInBytes,
  peekLastOffset,
  peekMaxTimestamp,
  peekRecordsCount,
  readBatchHeader,
  registerCodec,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  sizeOfRecordInBytes,
} from '../../../src/shared/record-batch/index.js';
import { buildBatch, plain, readAll, recordArb } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s);

describe('RecordBatchBuilder', () => {
  it('writes the exact bytes of a one-record batch', () => {
    const batch = buildBatch([{ timestamp: 1000, key: b('k'), value: b('v') }]);
    // length 8, attributes 0, timestampDelta 0, offsetDelta 0, key "k", value "v", 0 headers
    expect(batch.subarray(RECORD_BATCH_OVERHEAD).toString('hex')).toBe('10000000026b027600');
    expect(batch.length).toBe(RECORD_BATCH_OVERHEAD + 9);
    expect(batch.readInt32BE(8)).toBe(batch.length - 12);
    expect(batch.readInt32BE(12)).toBe(-1); // partitionLeaderEpoch
    expect(batch[16]).toBe(2);
    expect(batch.readUInt32BE(17)).toBe(crc32c(batch.subarray(21)));
    expect(batch.readInt16BE(21)).toBe(0);
    expect(batch.readInt32BE(23)).toBe(0);
    expect(batch.readBigInt64BE(27)).toBe(1000n);
    expect(batch.readBigInt64BE(35)).toBe(1000n);
    expect(batch.readBigInt64BE(43)).toBe(-1n);
    expect(batch.readInt16BE(51)).toBe(-1);
    expect(batch.readInt32BE(53)).toBe(-1);
    expect(batch.readInt32BE(57)).toBe(1);
  });

  it('writes into the caller region and returns a view of it', () => {
    const memory = Buffer.alloc(4096, 0xee);
    const builder = new RecordBatchBuilder({ buffer: memory, offset: 100, capacityBytes: 1000 });
    builder.tryAppend({ timestamp: 5, key: null, value: b('hello') });
    const batch = builder.build();
    expect(batch.buffer).toBe(memory.buffer);
    expect(batch.byteOffset).toBe(memory.byteOffset + 100);
    expect(memory[99]).toBe(0xee);
    expect(memory[100 + batch.length]).toBe(0xee);
    expect(readAll(memory, 100).map(plain)).toEqual([plain({ key: null, value: b('hello') })]);
  });

  it('accepts a plain Uint8Array region (e.g. over a SharedArrayBuffer)', () => {
    const memory = new Uint8Array(new SharedArrayBuffer(512));
    const builder = new RecordBatchBuilder({ buffer: memory, offset: 8 });
    builder.tryAppend({ timestamp: 1, key: b('a'), value: b('b') });
    const batch = builder.build();
    expect(batch.buffer).toBe(memory.buffer);
    expect(readAll(memory, 8)).toHaveLength(1);
  });

  it('tracks offsetDeltas, base and max timestamps, and count', () => {
    const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(1024) });
    expect(builder.lastOffsetDelta).toBe(-1);
    expect(builder.tryAppend({ timestamp: 2000, key: null, value: b('a') })).toBe(0);
    expect(builder.tryAppend({ timestamp: 1500, key: null, value: b('b') })).toBe(1);
    expect(builder.tryAppend({ timestamp: 2600, key: null, value: b('c') })).toBe(2);
    expect(builder.recordsCount).toBe(3);
    expect(builder.lastOffsetDelta).toBe(2);
    expect(builder.baseTimestamp).toBe(2000);
    expect(builder.maxTimestamp).toBe(2600);
    const header = readBatchHeader(builder.build());
    expect([header.baseTimestamp, header.maxTimestamp, header.lastOffsetDelta, header.recordsCount]).toEqual([2000, 2600, 2, 3]);
    expect(readAll(builder.build()).map((r) => [r.offset, r.timestamp])).toEqual([[0, 2000], [1, 1500], [2, 2600]]);
  });

  it('keeps null apart from empty for keys, values and header values', () => {
    const records = [
      { timestamp: 1, key: null, value: null, headers: [{ key: 'n', value: null }] },
      { timestamp: 1, key: b(''), value: b(''), headers: [{ key: '', value: b('') }] },
    ];
    const read = readAll(buildBatch(records));
    expect(read[0].key).toBeNull();
    expect(read[0].value).toBeNull();
    expect(read[0].headers[0].value).toBeNull();
    expect(read[1].key).toEqual(b(''));
    expect(read[1].value).toEqual(b(''));
    expect(read[1].headers[0]).toEqual({ key: '', value: b('') });
  });

  it('refuses a record that does not fit, exactly at the boundary, and is then full', () => {
    const record = { timestamp: 7, key: b('key'), value: b('value'), headers: [{ key: 'h', value: b('é') }] };
    const size = sizeOfRecordInBytes(0, 0, record.key, record.value, record.headers);
    const fits = new RecordBatchBuilder({ buffer: Buffer.alloc(RECORD_BATCH_OVERHEAD + size) });
    expect(fits.hasRoomFor(record)).toBe(true);
    expect(fits.tryAppend(record)).toBe(0);
    expect(fits.estimatedSizeInBytes).toBe(RECORD_BATCH_OVERHEAD + size);
    expect(fits.isFull).toBe(true); // not even a minimal record is left room
    expect(fits.build().length).toBe(RECORD_BATCH_OVERHEAD + size);

    const tight = new RecordBatchBuilder({ buffer: Buffer.alloc(RECORD_BATCH_OVERHEAD + 2 * size - 1) });
    expect(tight.tryAppend(record)).toBe(0);
    expect(tight.isFull).toBe(false);
    expect(tight.hasRoomFor(record)).toBe(false);
    expect(tight.tryAppend(record)).toBeNull();
    expect(tight.isFull).toBe(true);
    expect(tight.recordsCount).toBe(1);
    expect(readAll(tight.build())).toHaveLength(1);
  });

  it('never lets a record bigger than the region in, and the upper bound sizes a region that fits it', () => {
    const record = { timestamp: Date.now(), key: b('k'), value: Buffer.alloc(5000), headers: [{ key: 'x', value: null }] };
    expect(new RecordBatchBuilder({ buffer: Buffer.alloc(1024) }).tryAppend(record)).toBeNull();
    const bound = batchSizeUpperBoundInBytes(record.key, record.value, record.headers);
    const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(bound) });
    expect(builder.tryAppend(record)).toBe(0);
  });

  it('is closed after build: same bytes again, appends refused', () => {
    const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(256) });
    builder.tryAppend({ timestamp: 1, key: null, value: b('x') });
    const batch = builder.build();
    expect(builder.build()).toBe(batch);
    expect(builder.isClosed).toBe(true);
    expect(builder.isFull).toBe(true);
    expect(builder.hasRoomFor({ timestamp: 1, key: null, value: null })).toBe(false);
    expect(() => builder.tryAppend({ timestamp: 1, key: null, value: null })).toThrow(IllegalStateError);
  });

  it('refuses to build an empty batch, bad regions and bad timestamps', () => {
    expect(() => new RecordBatchBuilder({ buffer: Buffer.alloc(256) }).build()).toThrow(IllegalStateError);
    expect(() => new RecordBatchBuilder({ buffer: Buffer.alloc(60) })).toThrow(RangeError);
    expect(() => new RecordBatchBuilder({ buffer: Buffer.alloc(100), offset: 50, capacityBytes: 61 })).toThrow(RangeError);
    const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(256) });
    expect(() => builder.tryAppend({ timestamp: -2, key: null, value: null })).toThrow(RangeError);
    expect(() => builder.tryAppend({ timestamp: 1.5, key: null, value: null })).toThrow(RangeError);
    expect(builder.recordsCount).toBe(0);
  });

  it('writes producer fields, flags and partitionLeaderEpoch', () => {
    const batch = buildBatch([{ timestamp: 1, key: null, value: b('v') }], {
      baseOffset: 42,
      producerId: 9007199254740991,
      producerEpoch: 3,
      baseSequence: 17,
      partitionLeaderEpoch: 5,
      isTransactional: true,
      isControl: true,
    });
    const header = readBatchHeader(batch);
    expect(header).toMatchObject({
      baseOffset: 42,
      lastOffset: 42,
      producerId: 9007199254740991,
      producerEpoch: 3,
      baseSequence: 17,
      partitionLeaderEpoch: 5,
      isTransactional: true,
      isControl: true,
      hasDeleteHorizon: false,
      timestampType: TimestampType.createTime,
    });
    expect(readAll(batch)[0].offset).toBe(42);
  });

  it('gzips the records section at build and reads it back', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ timestamp: 1_700_000_000_000 + i, key: b(`key-${i}`), value: b('the same value again '.repeat(5)) }));
    const plainBatch = buildBatch(records);
    const memory = Buffer.alloc(plainBatch.length);
    const builder = new RecordBatchBuilder({ buffer: memory, compression: Compression.gzip });
    for (const record of records) builder.tryAppend(record);
    const gz = builder.build();
    expect(gz.buffer).toBe(memory.buffer); // it shrank, so it stays in the region
    expect(gz.length).toBeLessThan(plainBatch.length / 3);
    expect(gz.readInt16BE(21) & 7).toBe(Compression.gzip);
    // The compressed stream is exactly the uncompressed records section.
    expect(gunzipSync(gz.subarray(RECORD_BATCH_OVERHEAD))).toEqual(plainBatch.subarray(RECORD_BATCH_OVERHEAD));
    expect(readAll(gz).map(plain)).toEqual(records.map(plain));
    expect(readAll(gz).map((r) => r.timestamp)).toEqual(records.map((r) => r.timestamp));
  });

  it('returns a new buffer when compression grows a batch past its region', () => {
    const record = { timestamp: 1, key: null, value: b('x') };
    const size = RECORD_BATCH_OVERHEAD + sizeOfRecordInBytes(0, 0, null, record.value, []);
    const memory = Buffer.alloc(size);
    const builder = new RecordBatchBuilder({ buffer: memory, compression: Compression.gzip });
    expect(builder.tryAppend(record)).toBe(0);
    const batch = builder.build();
    expect(batch.buffer).not.toBe(memory.buffer);
    expect(batch.length).toBeGreaterThan(size);
    expect(readAll(batch).map(plain)).toEqual([plain(record)]);
  });

  it('names a compression with no codec registered, and uses one once registered', () => {
    // Every id Kafka defines has a codec now; 5-7 (not a compression) never does.
    expect(() => new RecordBatchBuilder({ buffer: Buffer.alloc(256), compression: 5 as CompressionId })).toThrow(UnsupportedCompressionError);
    expect(() => new RecordBatchBuilder({ buffer: Buffer.alloc(256), compression: 5 as CompressionId })).toThrow(/unknown \(5\)/);
    // A stand-in codec (reversal), enough to show the registry is what the builder and reader use.
    registerCodec(Compression.lz4, {
      compress: (bytes) => Buffer.from(bytes).reverse(),
      decompress: (bytes) => Buffer.from(bytes).reverse(),
    });
    const batch = buildBatch([{ timestamp: 1, key: b('k'), value: b('lz4?') }], { compression: Compression.lz4 });
    expect(readBatchHeader(batch).compression).toBe(Compression.lz4);
    expect(readAll(batch).map(plain)).toEqual([plain({ key: b('k'), value: b('lz4?') })]);
  });

  it('round-trips random records, uncompressed and gzipped', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 20 }), fc.boolean(), (records, gzip) => {
        const batch = buildBatch(records, { capacityBytes: 64 * 1024, compression: gzip ? Compression.gzip : Compression.none });
        const read = readAll(batch);
        expect(read.map(plain)).toEqual(records.map(plain));
        expect(read.map((r) => r.timestamp)).toEqual(records.map((r) => r.timestamp));
        expect(read.map((r) => r.offset)).toEqual(records.map((_, i) => i));
        expect(readBatchHeader(batch).maxTimestamp).toBe(Math.max(...records.map((r) => r.timestamp)));
      }),
      { numRuns: 150 },
    );
  });
});

describe('header patches and peeks', () => {
  const batch = (): Buffer => buildBatch([
    { timestamp: 100, key: null, value: b('a') },
    { timestamp: 300, key: null, value: b('b') },
  ]);

  it('setBaseOffset and setPartitionLeaderEpoch leave the CRC valid', () => {
    const bytes = batch();
    const crc = bytes.readUInt32BE(17);
    setBaseOffset(bytes, 0, 1234567890123);
    setPartitionLeaderEpoch(bytes, 0, 7);
    expect(bytes.readUInt32BE(17)).toBe(crc);
    const header = readBatchHeader(bytes);
    expect([header.baseOffset, header.lastOffset, header.partitionLeaderEpoch]).toEqual([1234567890123, 1234567890124, 7]);
    expect(readAll(bytes).map((r) => r.offset)).toEqual([1234567890123, 1234567890124]);
  });

  it('patches a batch in the middle of a larger buffer', () => {
    const one = batch();
    const memory = Buffer.concat([Buffer.alloc(10), one, Buffer.alloc(10)]);
    setBaseOffset(memory, 10, 99);
    expect(peekBaseOffset(memory, 10)).toBe(99);
    expect(peekLastOffset(memory, 10)).toBe(100);
    expect(peekBatchSizeInBytes(memory, 10)).toBe(one.length);
    expect(peekMaxTimestamp(memory, 10)).toBe(300);
    expect(peekRecordsCount(memory, 10)).toBe(2);
    expect(readBatchHeader(memory, 10).baseOffset).toBe(99);
    expect(memory.subarray(0, 10)).toEqual(Buffer.alloc(10));
  });

  it('setLogAppendTime sets the type and maxTimestamp, recomputes the CRC, and records take that time', () => {
    const bytes = batch();
    setLogAppendTime(bytes, 0, 5000);
    const header = readBatchHeader(bytes);
    expect(header.timestampType).toBe(TimestampType.logAppendTime);
    expect(header.maxTimestamp).toBe(5000);
    expect(readAll(bytes).map((r) => r.timestamp)).toEqual([5000, 5000]);
  });
});
