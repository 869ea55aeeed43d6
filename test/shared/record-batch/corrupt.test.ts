// Bad input: every malformed header or record is a CorruptRecordError with a message saying what
// and where, and random or mutated bytes never produce another error, a hang or a huge allocation.
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptRecordError } from '../../../src/shared/errors.js';
import {
  Compression,
  type CompressionId,
  RecordBatchScanner,
  UnsupportedCompressionError,
  readBatchHeader,
  readRecords,
  scanBatches,
} from '../../../src/shared/record-batch/index.js';
import { buildBatch, fixCrc, rawBatch, recordArb } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s);
const valid = (): Buffer => buildBatch([
  { timestamp: 1000, key: b('k0'), value: b('v0'), headers: [{ key: 'h', value: b('x') }] },
  { timestamp: 1001, key: null, value: b('v1') },
]);
const readAllRecords = (batch: Buffer): unknown[] => [...readRecords(readBatchHeader(batch))];

describe('corrupt batch headers', () => {
  it('fewer bytes than the log overhead', () => {
    expect(() => readBatchHeader(valid().subarray(0, 11))).toThrow(/batch at byte 0: only 11 bytes, fewer than the 12-byte log overhead/);
  });

  it('batchLength below the minimum', () => {
    const batch = valid();
    batch.writeInt32BE(48, 8);
    expect(() => readBatchHeader(batch)).toThrow(/batchLength 48 is below the minimum 49/);
    batch.writeInt32BE(-5, 8);
    expect(() => readBatchHeader(batch)).toThrow(CorruptRecordError);
  });

  it('a truncated batch: batchLength runs past the end', () => {
    const batch = valid();
    expect(() => readBatchHeader(batch.subarray(0, batch.length - 1))).toThrow(
      new RegExp(`batchLength ${batch.length - 12} needs ${batch.length} bytes, only ${batch.length - 1} available`),
    );
    expect(() => readBatchHeader(batch, 0, { end: 40 })).toThrow(CorruptRecordError);
  });

  it('wrong magic', () => {
    const batch = valid();
    batch[16] = 1;
    expect(() => readBatchHeader(batch)).toThrow(/magic 1, expected 2/);
  });

  it('bad CRC: a flipped bit anywhere from attributes to the end, or in the CRC itself', () => {
    const clean = valid();
    for (let i = 17; i < clean.length; i++) {
      const batch = Buffer.from(clean);
      batch[i] ^= 0x10;
      expect(() => readBatchHeader(batch), `byte ${i}`).toThrow(/CRC-32C mismatch, stored 0x[0-9A-F]{8}, computed 0x[0-9A-F]{8}/);
    }
  });

  it('negative recordsCount', () => {
    const batch = valid();
    batch.writeInt32BE(-1, 57);
    expect(() => readBatchHeader(fixCrc(batch))).toThrow(/negative recordsCount -1/);
  });

  it('an unknown compression id (5-7)', () => {
    const batch = valid();
    batch.writeInt16BE(5, 21);
    expect(() => readBatchHeader(fixCrc(batch))).toThrow(/unknown compression id 5/);
  });

  it('an offset beyond what a number holds exactly', () => {
    const batch = valid();
    batch.writeBigInt64BE(2n ** 60n, 0);
    expect(() => readBatchHeader(batch)).toThrow(/baseOffset 1152921504606846976 is beyond/);
  });

  it('a batch not at the start of the buffer names its position', () => {
    const batch = valid();
    batch[16] = 9;
    expect(() => readBatchHeader(Buffer.concat([Buffer.alloc(7), batch]), 7)).toThrow(/batch at byte 7: magic 9/);
  });
});

describe('corrupt batch streams', () => {
  it('garbage after a good batch is corrupt, not partial, as soon as its magic is visible', () => {
    const bytes = Buffer.concat([valid(), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 7])]);
    const scanner = new RecordBatchScanner(bytes);
    expect(scanner.readNext()).not.toBeNull();
    expect(() => scanner.readNext()).toThrow(/magic 7, expected 2/);
  });

  it('a too-small batchLength in a stream', () => {
    const bytes = valid();
    bytes.writeInt32BE(3, 8);
    expect(() => [...scanBatches(bytes)]).toThrow(/batchLength 3 is below the minimum/);
  });
});

describe('corrupt records', () => {
  // Records sections written by hand: length, attributes, timestampDelta, offsetDelta, key, value, headers.
  const cases: [string, number[], number, RegExp][] = [
    ['negative record length', [0x03, 0, 0, 0, 0, 0, 0], 1, /negative record length -2/],
    ['record length past the end', [0x20, 0, 0, 0, 1, 1, 0], 1, /record length 16 runs past the end of the records \(6 bytes left\)/],
    ['record length below the minimum', [0x04, 0, 0, 0, 1, 1, 0], 1, /record length 2 is below the minimum 6/],
    ['negative key length other than -1', [0x0c, 0, 0, 0, 0x03, 0x01, 0], 1, /negative key length -2/],
    ['negative value length other than -1', [0x0c, 0, 0, 0, 0x01, 0x05, 0], 1, /negative value length -3/],
    ['value length past the record end', [0x0c, 0, 0, 0, 0x01, 0x14, 0], 1, /value length 10 runs past the record end/],
    ['negative header count', [0x0c, 0, 0, 0, 0x01, 0x01, 0x01], 1, /negative header count -1/],
    ['header count larger than the record', [0x14, 0, 0, 0, 0x01, 0x01, 0xfe, 0xff, 0xff, 0xff, 0x0f], 1, /header count 2147483647 cannot fit in 0 bytes/],
    ['negative header key length', [0x10, 0, 0, 0, 0x01, 0x01, 0x02, 0x03, 0x01], 1, /header 0: negative key length -2/],
    ['negative header value length other than -1', [0x12, 0, 0, 0, 0x01, 0x01, 0x02, 0x02, 0x61, 0x07], 1, /negative header 0 value length -4/],
    ['varint longer than 5 bytes', [0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0], 1, /varint at byte 0 is longer than 5 bytes/],
    ['varlong longer than 10 bytes', [0x1a, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 1, 1], 1, /varlong at byte 2 is longer than 10 bytes/],
    ['varint cut off by the record end', [0x0c, 0, 0, 0, 0x01, 0x80, 0x80], 1, /varint at byte 5 runs past the end \(7\)/],
    ['record fields shorter than its length', [0x0e, 0, 0, 0, 0x01, 0x01, 0, 0x55], 1, /record length says 7 bytes but its fields take 6/],
    ['more records than bytes', [0x0c, 0, 0, 0, 0x01, 0x01, 0, 0x0c, 0, 0, 0x02, 0x01], 2, /recordsCount 2 cannot fit in 12 bytes of records/],
    ['fewer records than the bytes hold', [0x0c, 0, 0, 0, 0x01, 0x01, 0, 0x0c, 0, 0, 0x02, 0x01, 0x01, 0], 1, /batch at byte 0: 7 bytes of records left after the last record/],
    ['records end before recordsCount', [0x0c, 0, 0, 0, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0], 2, /batch at byte 0, record at byte 7 of its records: record length 0 is below/],
  ];

  it.each(cases)('%s', (_name, section, count, message) => {
    const batch = rawBatch(section, count);
    expect(() => readBatchHeader(batch)).not.toThrow(); // the header is fine; only the records are bad
    expect(() => readAllRecords(batch)).toThrow(CorruptRecordError);
    expect(() => readAllRecords(batch)).toThrow(message);
  });

  it('the same hand-written record, uncorrupted, reads (the cases above differ from it in one field)', () => {
    expect(readAllRecords(rawBatch([0x0c, 0, 0, 0, 0x01, 0x01, 0], 1))).toEqual([
      { offset: 0, offsetDelta: 0, timestamp: 1000, attributes: 0, key: null, value: null, headers: [] },
    ]);
  });

  it('a huge recordsCount fails at once instead of looping or allocating', () => {
    const batch = rawBatch([0x0c, 0, 0, 0, 0x01, 0x01, 0], 0x7fffffff);
    expect(() => readAllRecords(batch)).toThrow(/recordsCount 2147483647 cannot fit in 7 bytes/);
  });

  it('an iterator that failed keeps failing', () => {
    const iterator = readRecords(readBatchHeader(rawBatch([0x03, 0, 0, 0, 0, 0, 0], 1)));
    expect(() => iterator.readNext()).toThrow(CorruptRecordError);
    expect(() => iterator.readNext()).toThrow(CorruptRecordError);
  });

  it('gzip garbage', () => {
    expect(() => readAllRecords(rawBatch(Buffer.from('not a gzip stream at all'), 1, Compression.gzip))).toThrow(/gzip records do not decompress/);
  });

  it('a gzip bomb stops at maxDecompressedBytes', () => {
    const bomb = gzipSync(Buffer.alloc(16 << 20)); // 16 MiB of zeros in ~16 KiB
    const header = readBatchHeader(rawBatch(bomb, 1, Compression.gzip));
    expect(() => readRecords(header, { maxDecompressedBytes: 1 << 20 })).toThrow(CorruptRecordError);
  });

  it('garbage in a snappy, lz4 or zstd section is a CorruptRecordError naming the codec', () => {
    for (const [name, compression] of [['snappy', Compression.snappy], ['lz4', Compression.lz4], ['zstd', Compression.zstd]] as const) {
      const header = readBatchHeader(rawBatch([1, 2, 3], 1, compression));
      expect(() => readRecords(header)).toThrow(CorruptRecordError);
      expect(() => readRecords(header)).toThrow(new RegExp(`${name} records do not decompress`));
    }
  });
});

/** Reads every batch and record; lets through only the errors bad input may cause. */
function readEverything(bytes: Uint8Array, verifyCrc: boolean): void {
  try {
    for (const header of scanBatches(bytes, { verifyCrc })) {
      for (const record of readRecords(header, { maxDecompressedBytes: 1 << 20 })) {
        // Touch every field, as a consumer would.
        void record.key?.length;
        void record.value?.length;
        for (const h of record.headers) void h.value?.length;
      }
    }
  } catch (err) {
    // A codec whose package does not load on this platform is not corruption.
    if (err instanceof CorruptRecordError || err instanceof UnsupportedCompressionError) return;
    throw err;
  }
}

/** A batch header with a valid CRC around arbitrary bytes, so they reach the record parser. */
function wrap(body: Uint8Array, count: number, compression: CompressionId): Buffer {
  return rawBatch(body, count, compression);
}

describe('fuzzing', () => {
  it('random bytes: only records or CorruptRecordError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, verifyCrc) => {
        readEverything(bytes, verifyCrc);
      }),
      { numRuns: 500 },
    );
  });

  it('random records sections behind a valid header', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 0, max: 40 }),
        fc.constantFrom<CompressionId>(Compression.none, Compression.none, Compression.gzip),
        (body, count, compression) => {
          readEverything(wrap(compression === Compression.gzip ? gzipSync(body) : body, count, compression), true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('mutated valid batches (CRC fixed or not): only records or CorruptRecordError', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), byte: fc.constant(0) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(recordArb, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (records, gzip, mutations, recomputeCrc) => {
          let bytes = Buffer.from(buildBatch(records, { capacityBytes: 16 * 1024, compression: gzip ? Compression.gzip : Compression.none }));
          for (const m of mutations) {
            const at = m.at % (bytes.length + 1);
            if (m.kind === 'set' && at < bytes.length) bytes[at] = m.byte;
            else if (m.kind === 'truncate') bytes = bytes.subarray(0, at);
            else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.of(m.byte), bytes.subarray(at)]);
          }
          // Keep batchLength consistent so a fixed CRC lets the change through to the records.
          if (recomputeCrc && bytes.length >= 61) {
            bytes.writeInt32BE(bytes.length - 12, 8);
            fixCrc(bytes);
          }
          readEverything(bytes, true);
          readEverything(bytes, false);
        },
      ),
      { numRuns: 800 },
    );
  });
});
