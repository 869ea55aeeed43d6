// The lazy reader: scanning batches in a byte range (with a partial trailing batch), and the
// record iterator's offsets, timestamps and views.
import { describe, expect, it } from 'vitest';
import { CorruptRecordError } from '../../../src/shared/errors.js';
import {
  Compression,
  RecordBatchScanner,
  readBatchHeader,
  readRecords,
  scanBatches,
  setBaseOffset,
} from '../../../src/shared/record-batch/index.js';
import { buildBatch, fixCrc } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s);

/** Three batches laid end to end as a log segment holds them: offsets 0-1, 2-4, 5. */
function segment(): { bytes: Buffer; sizes: number[] } {
  const batches = [
    buildBatch([{ timestamp: 10, key: null, value: b('a') }, { timestamp: 11, key: null, value: b('b') }]),
    buildBatch([{ timestamp: 20, key: b('k'), value: b('c') }, { timestamp: 21, key: null, value: b('d') }, { timestamp: 22, key: null, value: b('e') }], { compression: Compression.gzip }),
    buildBatch([{ timestamp: 30, key: null, value: b('f'), headers: [{ key: 'h', value: b('1') }] }]),
  ];
  setBaseOffset(batches[1], 0, 2);
  setBaseOffset(batches[2], 0, 5);
  return { bytes: Buffer.concat(batches), sizes: batches.map((x) => x.length) };
}

describe('RecordBatchScanner', () => {
  it('walks every batch of a range, then stops at the end', () => {
    const { bytes, sizes } = segment();
    const scanner = scanBatches(bytes);
    const headers = [...scanner];
    expect(headers.map((h) => [h.position, h.sizeInBytes, h.baseOffset, h.lastOffset, h.recordsCount])).toEqual([
      [0, sizes[0], 0, 1, 2],
      [sizes[0], sizes[1], 2, 4, 3],
      [sizes[0] + sizes[1], sizes[2], 5, 5, 1],
    ]);
    expect(scanner.position).toBe(bytes.length);
    expect(scanner.isPartial).toBe(false);
    const values = headers.flatMap((h) => [...readRecords(h)].map((r) => `${r.offset}:${r.value}`));
    expect(values).toEqual(['0:a', '1:b', '2:c', '3:d', '4:e', '5:f']);
  });

  it('stops cleanly at a partial trailing batch wherever the range is cut, and says so', () => {
    const { bytes, sizes } = segment();
    const lastStart = sizes[0] + sizes[1];
    for (let cut = lastStart + 1; cut < bytes.length; cut++) {
      const scanner = new RecordBatchScanner(bytes.subarray(0, cut));
      expect([...scanner].map((h) => h.baseOffset)).toEqual([0, 2]);
      expect(scanner.isPartial).toBe(true);
      expect(scanner.partialBytes).toBe(cut - lastStart);
      expect(scanner.position).toBe(lastStart);
    }
  });

  it('reads a subrange given by start and end, and copies nothing', () => {
    const { bytes, sizes } = segment();
    const scanner = scanBatches(bytes, { start: sizes[0], end: sizes[0] + sizes[1] });
    const headers = [...scanner];
    expect(headers.map((h) => h.baseOffset)).toEqual([2]);
    expect(headers[0].bytes.buffer).toBe(bytes.buffer);
    expect(headers[0].bytes.byteOffset).toBe(bytes.byteOffset + sizes[0]);
    expect(scanner.isPartial).toBe(false);
  });

  it('readNext returns null at the end, and an empty range is neither batches nor partial', () => {
    const scanner = scanBatches(Buffer.alloc(0));
    expect(scanner.readNext()).toBeNull();
    expect(scanner.isPartial).toBe(false);
  });

  it('leaves position at a corrupt batch, for recovery to truncate there', () => {
    const { bytes, sizes } = segment();
    bytes[sizes[0] + 30] ^= 0xff; // inside the second batch's CRC-covered bytes
    const scanner = scanBatches(bytes);
    expect(scanner.readNext()?.baseOffset).toBe(0);
    expect(() => scanner.readNext()).toThrow(/CRC-32C mismatch/);
    expect(scanner.position).toBe(sizes[0]);
  });

  it('treats a length over maxBatchSizeBytes as corrupt, not partial', () => {
    const { bytes } = segment();
    bytes.writeInt32BE(0x7fffff00, 8);
    expect(scanBatches(bytes).readNext()).toBeNull(); // without a limit it looks like a batch still to come
    expect(() => scanBatches(bytes, { maxBatchSizeBytes: 1 << 20 }).readNext()).toThrow(CorruptRecordError);
  });
});

describe('RecordIterator', () => {
  it('gives absolute offsets and timestamps, and views into the batch bytes', () => {
    const batch = buildBatch([
      { timestamp: 1_600_000_000_000, key: b('k1'), value: b('v1'), headers: [{ key: 'a', value: b('x') }, { key: 'a', value: b('y') }] },
      { timestamp: 1_599_999_999_000, key: null, value: b('v2') },
    ]);
    setBaseOffset(batch, 0, 1000);
    const records = [...readRecords(readBatchHeader(batch))];
    expect(records.map((r) => [r.offset, r.offsetDelta, r.timestamp, r.attributes])).toEqual([
      [1000, 0, 1_600_000_000_000, 0],
      [1001, 1, 1_599_999_999_000, 0],
    ]);
    expect(records[0].key?.buffer).toBe(batch.buffer);
    // Repeated header keys stay separate and in order.
    expect(records[0].headers.map((h) => `${h.key}=${h.value}`)).toEqual(['a=x', 'a=y']);
  });

  it('readNext walks the same records and then returns null', () => {
    const header = readBatchHeader(buildBatch([{ timestamp: 1, key: null, value: b('only') }]));
    const iterator = readRecords(header);
    expect(iterator.readNext()?.value).toEqual(b('only'));
    expect(iterator.readNext()).toBeNull();
    expect(iterator.readNext()).toBeNull();
  });

  it('decompresses only when records are asked for', () => {
    const batch = buildBatch([{ timestamp: 1, key: null, value: b('zipped') }], { compression: Compression.gzip });
    batch.fill(0, batch.length - 8); // break the gzip trailer (its CRC-32 and length)
    const header = readBatchHeader(fixCrc(batch)); // the header alone reads fine

    expect(() => readRecords(header)).toThrow(/gzip records do not decompress/);
  });
});
