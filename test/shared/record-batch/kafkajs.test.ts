// Cross-checks against implementations nobody here wrote: KafkaJS 2.2.4's RecordBatch encoder and
// decoder (both directions, gzip included), its CRC-32C, murmur2 and varints, and a RecordBatch
// written by a Kafka broker (KafkaJS's fixture, tulios/kafkajs, MIT).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/shared/crc32c.js';
import { murmur2 } from '../../../src/shared/murmur2.js';
import {
  Compression,
  TimestampType,
  type RecordInput,
  readBatchHeader,
  readRecords,
  scanBatches,
} from '../../../src/shared/record-batch/index.js';
import { writeVarint, writeVarlong } from '../../../src/shared/varint.js';
import { buildBatch, plain, recordArb } from './helpers.js';

const require = createRequire(import.meta.url);

interface KafkaJSLong {
  toString(): string;
}
interface KafkaJSDecodedRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
}
interface KafkaJSDecodedBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  records: KafkaJSDecodedRecord[];
}
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
};
const KafkaJSRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (options: Record<string, unknown>) => unknown;
const decodeKafkaJSBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<KafkaJSDecodedBatch>;
const KafkaJSDecoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
const KafkaJSEncoder = require('kafkajs/src/protocol/encoder') as new () => {
  buffer: Buffer;
  writeVarInt(v: number): unknown;
  writeVarLong(v: number | KafkaJSLong): unknown;
};
const Long = require('kafkajs/src/utils/long') as { fromNumber(n: number): KafkaJSLong };
const { CompressionTypes } = require('kafkajs') as { CompressionTypes: { None: number; GZIP: number } };
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number;

const b = (s: string): Buffer => Buffer.from(s);

/** A record as KafkaJS takes it: headers an object, a repeated key as an array of values. */
interface KafkaJSInput {
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | Buffer[]>;
}

/** Encodes records with KafkaJS. Header values must be non-null: KafkaJS cannot encode a null one. */
async function kafkajsEncode(
  records: KafkaJSInput[],
  options: { baseOffset?: number; compression?: number; producerId?: number; producerEpoch?: number; firstSequence?: number } = {},
): Promise<Buffer> {
  const firstTimestamp = records[0].timestamp;
  const encoded = await RecordBatch({
    compression: options.compression ?? CompressionTypes.None,
    firstOffset: Long.fromNumber(options.baseOffset ?? 0),
    firstTimestamp,
    maxTimestamp: Math.max(...records.map((r) => r.timestamp)),
    lastOffsetDelta: records.length - 1,
    producerId: Long.fromNumber(options.producerId ?? -1),
    producerEpoch: options.producerEpoch ?? 0,
    firstSequence: options.firstSequence ?? 0,
    records: records.map((r, i) =>
      KafkaJSRecord({ offsetDelta: i, timestampDelta: r.timestamp - firstTimestamp, key: r.key, value: r.value, headers: r.headers ?? {} }),
    ),
  });
  return encoded.buffer;
}

async function kafkajsDecode(bytes: Buffer): Promise<KafkaJSDecodedBatch> {
  return decodeKafkaJSBatch(new KafkaJSDecoder(bytes));
}

/** KafkaJS's header object (repeated keys become arrays) from our header list. */
function kafkajsHeaders(headers: readonly { key: string; value: Uint8Array | null }[]): Record<string, Buffer | null | (Buffer | null)[]> {
  const out: Record<string, Buffer | null | (Buffer | null)[]> = {};
  for (const { key, value } of headers) {
    const v = value === null ? null : Buffer.from(value);
    const prev = out[key];
    out[key] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const sample: KafkaJSInput[] = [
  { timestamp: 1_700_000_000_000, key: b('key-0'), value: b('value-0'), headers: { trace: b('abc'), multi: [b('1'), b('2')] } },
  { timestamp: 1_700_000_000_005, key: null, value: b('no key') },
  { timestamp: 1_699_999_999_990, key: b('key-2'), value: null },
  { timestamp: 1_700_000_000_100, key: b(''), value: b(''), headers: { 'ünïcode': b('✓') } },
];

describe('KafkaJS → our reader', () => {
  it.each([
    ['uncompressed', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
  ])('%s batches decode to the same records', async (_name, compression) => {
    const bytes = await kafkajsEncode(sample, { baseOffset: 500, compression, producerId: 77, producerEpoch: 2, firstSequence: 9 });
    const header = readBatchHeader(bytes); // the CRC KafkaJS wrote must check out
    expect(header).toMatchObject({
      baseOffset: 500,
      lastOffset: 503,
      recordsCount: 4,
      compression: compression === CompressionTypes.GZIP ? Compression.gzip : Compression.none,
      timestampType: TimestampType.createTime,
      baseTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_100,
      producerId: 77,
      producerEpoch: 2,
      baseSequence: 9,
    });
    const records = [...readRecords(header)];
    expect(records.map((r) => [r.offset, r.timestamp])).toEqual(sample.map((r, i) => [500 + i, r.timestamp]));
    expect(records.map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null])).toEqual(
      sample.map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null]),
    );
    expect(records[0].headers.map((h) => `${h.key}=${h.value}`)).toEqual(['trace=abc', 'multi=1', 'multi=2']);
    expect(records[3].headers.map((h) => `${h.key}=${h.value}`)).toEqual(['ünïcode=✓']);
  });

  it('several KafkaJS batches in one buffer scan as a log segment would', async () => {
    const batches = await Promise.all([0, 1, 2].map((i) => kafkajsEncode(sample.slice(0, i + 1), { baseOffset: i * 10, compression: i === 1 ? CompressionTypes.GZIP : CompressionTypes.None })));
    const scanned = [...scanBatches(Buffer.concat(batches))];
    expect(scanned.map((h) => [h.baseOffset, h.recordsCount])).toEqual([[0, 1], [10, 2], [20, 3]]);
    expect(scanned.flatMap((h) => [...readRecords(h)].map((r) => r.offset))).toEqual([0, 10, 11, 20, 21, 22]);
  });
});

describe('our builder → KafkaJS decoder', () => {
  it.each([
    ['uncompressed', Compression.none],
    ['gzip', Compression.gzip],
  ])('%s batches decode to the same records', async (_name, compression) => {
    const records: RecordInput[] = [
      { timestamp: 1_700_000_000_000, key: b('a'), value: b('1'), headers: [{ key: 'h', value: b('x') }, { key: 'h', value: b('y') }] },
      { timestamp: 1_699_999_000_000, key: null, value: b('2'), headers: [{ key: 'null-valued', value: null }] },
      { timestamp: 1_700_000_500_000, key: b('c'), value: null },
    ];
    const bytes = buildBatch(records, { compression, baseOffset: 40, producerId: 12, producerEpoch: 1, baseSequence: 3, partitionLeaderEpoch: 6 });
    const decoded = await kafkajsDecode(bytes);
    expect(decoded).toMatchObject({
      firstOffset: '40',
      firstTimestamp: '1700000000000',
      maxTimestamp: '1700000500000',
      lastOffsetDelta: 2,
      producerId: '12',
      producerEpoch: 1,
      firstSequence: 3,
      partitionLeaderEpoch: 6,
      inTransaction: false,
    });
    expect(decoded.records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null])).toEqual([
      ['40', '1700000000000', 'a', '1'],
      ['41', '1699999000000', null, '2'],
      ['42', '1700000500000', 'c', null],
    ]);
    expect(decoded.records[0].headers).toEqual({ h: [b('x'), b('y')] });
    expect(decoded.records[1].headers).toEqual({ 'null-valued': null });
  });

  it('random records decode the same in KafkaJS', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 10 }), fc.boolean(), async (records, gzip) => {
        const bytes = buildBatch(records, { capacityBytes: 64 * 1024, compression: gzip ? Compression.gzip : Compression.none });
        const decoded = await kafkajsDecode(bytes);
        expect(decoded.records.map((r) => ({ key: r.key, value: r.value, headers: r.headers }))).toEqual(
          records.map((r) => ({ key: r.key, value: r.value, headers: kafkajsHeaders(r.headers ?? []) })),
        );
        expect(decoded.records.map((r) => Number(r.timestamp))).toEqual(records.map((r) => r.timestamp));
      }),
      { numRuns: 60 },
    );
  });

  it('KafkaJS-encoded random records read back the same with our reader', async () => {
    // KafkaJS cannot encode null header values or repeated keys in one object, so headers are unique and non-null.
    const arb = fc.array(recordArb.map((r) => ({ ...r, headers: (r.headers ?? []).filter((h) => h.value !== null) })), { minLength: 1, maxLength: 10 });
    await fc.assert(
      fc.asyncProperty(arb, async (records) => {
        // A JS object lists integer-like keys ("0") first, so KafkaJS writes headers in the object's key order.
        const asObjects = records.map((r) => ({ ...r, headers: Object.fromEntries((r.headers ?? []).map((h) => [h.key, h.value as Buffer])) }));
        const expected = asObjects.map((r) => ({ ...r, headers: Object.entries(r.headers).map(([key, value]) => ({ key, value })) }));
        const bytes = await kafkajsEncode(asObjects.map((r) => ({ ...r, key: r.key as Buffer | null, value: r.value as Buffer | null })));
        expect([...readRecords(readBatchHeader(bytes))].map(plain)).toEqual(expected.map(plain));
      }),
      { numRuns: 60 },
    );
  });
});

describe('the same primitives as KafkaJS', () => {
  it('CRC-32C', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
      expect(crc32c(bytes)).toBe(kafkajsCrc32c(Buffer.from(bytes)));
    }));
  });

  it('murmur2 (KafkaJS default partitioner)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      expect(murmur2(bytes)).toBe(kafkajsMurmur2(Buffer.from(bytes)));
    }));
  });

  it('varint and varlong', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), (i32, i53) => {
        const ours = Buffer.alloc(16);
        const theirs = new KafkaJSEncoder();
        theirs.writeVarInt(i32);
        expect(ours.subarray(0, writeVarint(ours, 0, i32))).toEqual(theirs.buffer);
        const theirsLong = new KafkaJSEncoder();
        theirsLong.writeVarLong(Long.fromNumber(i53));
        expect(ours.subarray(0, writeVarlong(ours, 0, i53))).toEqual(theirsLong.buffer);
      }),
    );
  });
});

describe('a RecordBatch written by a Kafka broker (KafkaJS fixture, gzip + LogAppendTime)', () => {
  const fixture = JSON.parse(readFileSync(new URL('../../fixtures/record-batch/kafkajs-v0-gzip-batch.json', import.meta.url), 'utf8')) as {
    source: { repo: string; path: string };
    data: number[];
  };
  const bytes = Buffer.from(fixture.data);

  it('comes from the file named in its source', () => {
    expect(fixture.source).toMatchObject({ repo: 'tulios/kafkajs', path: 'src/protocol/recordBatch/fixtures/v0_recordbatch.json' });
    expect(bytes.length).toBe(125);
  });

  it('has the header kafka-facts §2 records, with a CRC that checks out', () => {
    const header = readBatchHeader(bytes);
    expect(header).toMatchObject({
      baseOffset: 0,
      batchLength: 113,
      sizeInBytes: 125,
      magic: 2,
      crc: 0xe4c324a5,
      attributes: 9,
      compression: Compression.gzip,
      timestampType: TimestampType.logAppendTime,
      baseTimestamp: 1597425188775,
      maxTimestamp: 1597425188809,
      producerId: -1,
      recordsCount: 1,
    });
  });

  it('decodes to its one record', () => {
    const records = [...readRecords(readBatchHeader(bytes))];
    expect(records).toHaveLength(1);
    expect(records[0].offset).toBe(0);
    expect(records[0].key?.toString()).toBe('key-0');
    expect(records[0].value?.toString()).toBe('value-0-2020-08-14T17:13:08.682Z');
    expect(records[0].headers).toEqual([]);
    // LogAppendTime: every record takes the batch's maxTimestamp (Kafka's rule; KafkaJS agrees).
    expect(records[0].timestamp).toBe(1597425188809);
  });

  it('decodes the same in KafkaJS', async () => {
    const decoded = await kafkajsDecode(bytes);
    expect(decoded.records.map((r) => [r.offset, r.timestamp, r.key?.toString(), r.value?.toString()])).toEqual([
      ['0', '1597425188809', 'key-0', 'value-0-2020-08-14T17:13:08.682Z'],
    ]);
  });
});
