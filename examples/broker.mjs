// An embedded broker spoken to in Kafka's own protocol: node examples/broker.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeys, RecordBatchBuilder, readBatchHeader, readRecords, startCluster } from 'ringlog';

const dataDir = mkdtempSync(join(tmpdir(), 'ringlog-example-'));
const cluster = await startCluster({ dataDir }); // a broker worker and its log writer, in milliseconds
const client = await cluster.client(); // Kafka frames over a ring-channel pair; versions negotiated

// A RecordBatch v2, written straight into a buffer as a producer does.
const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(16_384) });
for (const word of ['hello', 'kafka', 'from', 'ringlog']) builder.tryAppend({ timestamp: Date.now(), key: null, value: Buffer.from(word) });

const metadata = await client.request(ApiKeys.METADATA, { topics: [{ name: 'greetings' }], allowAutoTopicCreation: true });
const { topicId } = metadata.topics[0]; // the topic was created on the way
const produced = await client.request(ApiKeys.PRODUCE, {
  acks: -1, timeoutMs: 5_000, topicData: [{ name: 'greetings', partitionData: [{ index: 0, records: builder.build() }] }],
});
console.log('written at offset', produced.responses[0].partitionResponses[0].baseOffset); // 0n

const fetched = await client.request(ApiKeys.FETCH, {
  maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 20,
  topics: [{ topicId, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
});
for (const record of readRecords(readBatchHeader(fetched.responses[0].partitions[0].records))) {
  console.log(record.offset, record.value.toString()); // 0 hello, 1 kafka, ...
}

client.close();
await cluster.close(); // flushes, checkpoints, marks the directory clean
rmSync(dataDir, { recursive: true });
