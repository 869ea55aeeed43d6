// Real RecordBatch v2 bytes made by KafkaJS's encoder, an implementation nobody here wrote.
import { createRequire } from 'node:module';
import type { AppendBatch } from '../../../src/shared/log/segment.js';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (options: Record<string, unknown>) => unknown;
const Long = require('kafkajs/src/utils/long') as { fromNumber(n: number): unknown };

/** A batch of `count` records at `baseOffset`, record i with timestamp `timestamp + i` and a value of valueBytes. */
export async function kafkajsBatch(baseOffset: number, count: number, timestamp: number, valueBytes = 100): Promise<AppendBatch> {
  const records = Array.from({ length: count }, (_, i) => Record({
    offsetDelta: i,
    timestampDelta: i,
    key: Buffer.from(`key-${baseOffset + i}`),
    value: Buffer.alloc(valueBytes, (baseOffset + i) & 0xff),
    headers: {},
  }));
  const encoded = await RecordBatch({
    firstOffset: Long.fromNumber(baseOffset),
    firstTimestamp: timestamp,
    maxTimestamp: timestamp + count - 1,
    lastOffsetDelta: count - 1,
    records,
  });
  return { bytes: encoded.buffer, baseOffset, lastOffset: baseOffset + count - 1, maxTimestamp: timestamp + count - 1 };
}

/** `n` consecutive batches of `perBatch` records, timestamps rising by 1 per record from `t0`. */
export async function kafkajsBatches(n: number, perBatch: number, t0: number, valueBytes = 100, firstOffset = 0): Promise<AppendBatch[]> {
  const out: AppendBatch[] = [];
  for (let i = 0; i < n; i++) out.push(await kafkajsBatch(firstOffset + i * perBatch, perBatch, t0 + i * perBatch, valueBytes));
  return out;
}

export const baseOffsetOf = (bytes: Buffer): number => Number(bytes.readBigInt64BE(0));
