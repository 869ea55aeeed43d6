import { afterEach, describe, expect, it } from 'vitest';
import { LogWriterClient } from '../../src/actors/log-writer-client.js';
import { ReplicaManager } from '../../src/actors/replica-manager.js';
import { RequestHandler } from '../../src/actors/request-handler.js';
import { ApiKeys as ApiKey, ErrorCodes as ErrorCode } from '../../src/shared/protocol/index.js';
import { resolveBrokerOptions } from '../../src/shared/broker-config.js';
import { kafkajsBatch } from '../shared/log/kafkajs-batches.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { memoryLogger } from './helpers.js';

const tempDir = useTempDirs();
const writers: LogWriterClient[] = [];
afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.close().catch(() => w.kill())));
});

async function handler(overrides: Record<string, unknown> = {}) {
  const dir = tempDir();
  const { logger } = memoryLogger();
  const options = resolveBrokerOptions({ 'log.dirs': dir, 'num.partitions': 2, ...overrides });
  const writer = new LogWriterClient({ logDir: dir, logger });
  writers.push(writer);
  const replicas = new ReplicaManager(writer, options, logger);
  const h = new RequestHandler(replicas, options, () => ({ nodeId: 0, host: '127.0.0.1', port: 0 }), [{ apiKey: 0, name: 'Produce', minVersion: 3, maxVersion: 11 }], logger);
  const call = (apiKey: number, apiVersion: number, body: Record<string, unknown>) => h.handle({ apiKey, apiVersion, correlationId: 1, clientId: 'test' }, body);
  return { call, replicas };
}

const batch = async (count: number, timestamp = 1_700_000_000_000) => (await kafkajsBatch(0, count, timestamp)).bytes;
const produce = (topic: string, partition: number, records: Uint8Array, acks = 1, timeoutMs = 5_000) =>
  ({ transactionalId: null, acks, timeoutMs, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });

describe('request handler', () => {
  it('answers ApiVersions with the supported ranges', async () => {
    const { call } = await handler();
    expect(await call(ApiKey.API_VERSIONS, 3, {})).toEqual({ errorCode: 0, apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 11 }], throttleTimeMs: 0 });
  });

  it('auto-creates a topic on Metadata with num.partitions, and not when asked not to', async () => {
    const { call } = await handler();
    const created = await call(ApiKey.METADATA, 12, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'fresh' }], allowAutoTopicCreation: true });
    expect(created!.topics[0]).toMatchObject({ errorCode: 0, name: 'fresh', partitions: [{ partitionIndex: 0, leaderId: 0 }, { partitionIndex: 1, leaderId: 0 }] });
    const refused = await call(ApiKey.METADATA, 12, { topics: [{ name: 'other' }], allowAutoTopicCreation: false });
    expect(refused!.topics[0]).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partitions: [] });
    const all = await call(ApiKey.METADATA, 12, { topics: null });
    expect(all!.topics.map((t: { name: string }) => t.name)).toEqual(['fresh']);
    expect(all!.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: 0, rack: null }]);
    const invalid = await call(ApiKey.METADATA, 12, { topics: [{ name: '../etc' }], allowAutoTopicCreation: true });
    expect(invalid!.topics[0]).toMatchObject({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION });
  });

  it('creates topics and reports existing ones', async () => {
    const { call } = await handler();
    const body = { topics: [{ name: 'made', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false };
    expect((await call(ApiKey.CREATE_TOPICS, 7, body))!.topics[0]).toMatchObject({ name: 'made', errorCode: 0, numPartitions: 3 });
    expect((await call(ApiKey.CREATE_TOPICS, 7, body))!.topics[0]).toMatchObject({ errorCode: ErrorCode.TOPIC_ALREADY_EXISTS });
  });

  it('produces with acks=1, returns nothing for acks=0, and refuses other acks', async () => {
    const { call, replicas } = await handler();
    await replicas.createTopic('p', 1);
    const first = await call(ApiKey.PRODUCE, 9, produce('p', 0, await batch(5)));
    expect(first!.responses[0].partitionResponses[0]).toMatchObject({ index: 0, errorCode: 0, baseOffset: 0n });
    expect(await call(ApiKey.PRODUCE, 9, produce('p', 0, await batch(5), 0))).toBeNull();
    const third = await call(ApiKey.PRODUCE, 9, produce('p', 0, await batch(1), -1));
    expect(third!.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 10n });
    const bad = await call(ApiKey.PRODUCE, 9, produce('p', 0, await batch(1), 2));
    expect(bad!.responses[0].partitionResponses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUIRED_ACKS });
  });

  it('long-polls a fetch until data arrives, then answers at once', async () => {
    const { call, replicas } = await handler();
    await replicas.createTopic('f', 1);
    const fetchBody = { maxWaitMs: 10_000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, topics: [{ topic: 'f', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }] };
    const started = performance.now();
    const pending = call(ApiKey.FETCH, 11, fetchBody);
    await call(ApiKey.PRODUCE, 9, produce('f', 0, await batch(3)));
    const answer = await pending;
    expect(performance.now() - started).toBeLessThan(5_000);
    const partition = answer!.responses[0].partitions[0];
    expect(partition).toMatchObject({ partitionIndex: 0, errorCode: 0, highWatermark: 3n });
    expect(Buffer.from(partition.records).readBigInt64BE(0)).toBe(0n);
    const empty = await call(ApiKey.FETCH, 11, { ...fetchBody, maxWaitMs: 10 });
    expect(empty!.responses[0].partitions[0].records.length).toBeGreaterThan(0);
    const pastEnd = await call(ApiKey.FETCH, 11, { ...fetchBody, topics: [{ topic: 'f', partitions: [{ partition: 0, fetchOffset: 99n, partitionMaxBytes: 1 << 20 }] }] });
    expect(pastEnd!.responses[0].partitions[0]).toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
  });

  it('lists offsets', async () => {
    const { call, replicas } = await handler();
    await replicas.createTopic('o', 1);
    await call(ApiKey.PRODUCE, 9, produce('o', 0, await batch(4, 5_000)));
    const body = (timestamp: bigint) => ({ replicaId: -1, isolationLevel: 0, topics: [{ name: 'o', partitions: [{ partitionIndex: 0, timestamp }] }] });
    expect((await call(ApiKey.LIST_OFFSETS, 7, body(-2n)))!.topics[0].partitions[0]).toMatchObject({ offset: 0n });
    expect((await call(ApiKey.LIST_OFFSETS, 7, body(-1n)))!.topics[0].partitions[0]).toMatchObject({ offset: 4n });
    expect((await call(ApiKey.LIST_OFFSETS, 7, body(5_002n)))!.topics[0].partitions[0]).toMatchObject({ offset: 2n, timestamp: 5_002n }); // record 2 has exactly that timestamp
  });
});
