import { connectClient } from '../../src/actors/tcp-clients.js';
import { ApiKeys } from '../../src/shared/protocol/index.js';
import { readBatchHeader, readRecords, scanBatches, type RecordBatchHeader } from '../../src/shared/record-batch/index.js';

export interface StoredRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

/** The batch headers of a partition as stored (read over TCP with ringlog's client; CRCs checked). */
export async function storedBatches(bootstrapServers: string, topic: string, partition: number): Promise<RecordBatchHeader[]> {
  const client = await connectClient(bootstrapServers);
  try {
    const answer = await client.request(ApiKeys.FETCH, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 64 << 20, isolationLevel: 0,
      topics: [{ topic, partitions: [{ partition, fetchOffset: 0n, partitionMaxBytes: 64 << 20 }] }],
    }, { version: 12 }) as { responses: { partitions: { records: Uint8Array | null }[] }[] };
    const records = answer.responses[0]!.partitions[0]!.records ?? new Uint8Array(0);
    return [...scanBatches(records)].map(({ position }) => readBatchHeader(records, position));
  } finally {
    client.close();
  }
}

/** The records of stored batches (decompressed by ringlog's codecs), with their offsets. */
export function storedRecords(batches: RecordBatchHeader[]): StoredRecord[] {
  return batches.flatMap((header) => [...readRecords(header)].map((r) => ({
    offset: Number(header.baseOffset) + r.offsetDelta,
    key: r.key === null ? null : Buffer.from(r.key),
    value: r.value === null ? null : Buffer.from(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) })),
  })));
}
