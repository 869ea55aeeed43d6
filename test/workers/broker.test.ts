import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import type { EmbeddedConnection } from '../../src/actors/embedded-connection.js';
import { KafkaClient } from '../../src/actors/kafka-client.js';
import { BROKER_APIS } from '../../src/actors/request-handler.js';
import { IllegalStateError } from '../../src/shared/errors.js';
import { ApiKeys, decodeResponse, encodeRequest, ErrorCodes } from '../../src/shared/protocol/index.js';
import { memoryLogger } from '../actors/helpers.js';
import { kafkajsBatch } from '../shared/log/kafkajs-batches.js';
import { useTempDirs } from '../shared/log/tmpdir.js';

// Decoded bodies, indexed freely by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

const tempDir = useTempDirs();
const clusters: Cluster[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()));
});

async function start(brokerConfig: Record<string, unknown> = {}, dataDir = tempDir()): Promise<{ cluster: Cluster; connection: EmbeddedConnection; call: (apiKey: number, apiVersion: number, body: Body) => Promise<Body> }> {
  const cluster = await startCluster({ dataDir, brokerConfig, logger: memoryLogger().logger });
  clusters.push(cluster);
  const connection = await cluster.connect();
  const client = new KafkaClient(connection, { clientId: 'broker-test', requestTimeoutMs: 10_000 });
  const call = async (apiKey: number, apiVersion: number, body: Body): Promise<Body> => (await client.request(apiKey, body, { version: apiVersion })) as Body;
  return { cluster, connection, call };
}

const produce = (topic: string, records: Uint8Array, partition = 0, acks = 1): Body =>
  ({ transactionalId: null, acks, timeoutMs: 5_000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
const fetch = (topic: string, fetchOffset: bigint, maxWaitMs = 0): Body =>
  ({ replicaId: -1, maxWaitMs, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, topics: [{ topic, partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20 }] }] });

describe('broker worker over the embedded transport', () => {
  it('answers ApiVersions with only what it serves, and unknown versions at v0 with UNSUPPORTED_VERSION', async () => {
    const { call, connection } = await start();
    const versions = await call(ApiKeys.API_VERSIONS, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    const produceRange = versions.apiKeys.find((a: Body) => a.apiKey === ApiKeys.PRODUCE);
    expect(produceRange).toMatchObject({ minVersion: 0 }); // as Kafka 3.x: librdkafka's compression needs it
    const served = versions.apiKeys.map((a: Body) => a.apiKey).sort((a: number, b: number) => a - b);
    expect(served).toEqual(BROKER_APIS.map((a) => a.apiKey).sort((a, b) => a - b));
    // Produce, Fetch, ListOffsets, Metadata, the group APIs (8-16), ApiVersions, CreateTopics, DeleteTopics, InitProducerId.
    expect(served).toEqual(expect.arrayContaining([0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22]));
    // A version from the future: the answer comes at v0, with the ranges.
    const frame = encodeRequest({ apiKey: ApiKeys.API_VERSIONS, apiVersion: 3, correlationId: 99, clientId: 'x' }, {});
    frame.writeInt16BE(99, 6);
    const answer = decodeResponse(ApiKeys.API_VERSIONS, 0, (await connection.request(frame, 5_000)).subarray(4)) as { correlationId: number; body: Body };
    expect(answer.correlationId).toBe(99);
    expect(answer.body).toMatchObject({ errorCode: ErrorCodes.UNSUPPORTED_VERSION });
    expect(answer.body.apiKeys.length).toBeGreaterThan(0);
  });

  it('creates a topic through Metadata, produces, fetches and lists offsets', async () => {
    const { call } = await start({ 'num.partitions': 3 });
    const metadata = await call(ApiKeys.METADATA, 12, { topics: [{ name: 'orders' }], allowAutoTopicCreation: true });
    expect(metadata.topics[0]).toMatchObject({ errorCode: 0, name: 'orders' });
    expect(metadata.topics[0].partitions).toHaveLength(3);
    const batch = (await kafkajsBatch(0, 10, 1_700_000_000_000)).bytes;
    for (const expected of [0n, 10n]) {
      const produced = await call(ApiKeys.PRODUCE, 9, produce('orders', batch));
      expect(produced.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: expected });
    }
    const fetched = await call(ApiKeys.FETCH, 12, fetch('orders', 10n));
    const partition = fetched.responses[0].partitions[0];
    expect(partition).toMatchObject({ errorCode: 0, highWatermark: 20n });
    expect(Buffer.from(partition.records).readBigInt64BE(0)).toBe(10n);
    const offsets = await call(ApiKeys.LIST_OFFSETS, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });
    expect(offsets.topics[0].partitions[0]).toMatchObject({ errorCode: 0, offset: 20n });
  });

  it('answers bad requests with the right error codes and keeps serving', async () => {
    const { call } = await start({ 'auto.create.topics.enable': false, 'message.max.bytes': 4_000 });
    await call(ApiKeys.CREATE_TOPICS, 7, { topics: [{ name: 'good', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5_000, validateOnly: false });
    const small = (await kafkajsBatch(0, 2, 1_700_000_000_000)).bytes;
    const unknown = await call(ApiKeys.METADATA, 12, { topics: [{ name: 'nope' }], allowAutoTopicCreation: true });
    expect(unknown.topics[0].errorCode).toBe(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    const traversal = await call(ApiKeys.CREATE_TOPICS, 7, { topics: [{ name: '../etc', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5_000, validateOnly: false });
    expect(traversal.topics[0].errorCode).toBe(ErrorCodes.INVALID_TOPIC_EXCEPTION);
    const oversize = await call(ApiKeys.PRODUCE, 9, produce('good', (await kafkajsBatch(0, 40, 1_700_000_000_000)).bytes));
    expect(oversize.responses[0].partitionResponses[0].errorCode).toBe(ErrorCodes.MESSAGE_TOO_LARGE);
    const corrupt = Buffer.from(small);
    corrupt[corrupt.length - 2]! ^= 0x55;
    expect((await call(ApiKeys.PRODUCE, 9, produce('good', corrupt))).responses[0].partitionResponses[0].errorCode).toBe(ErrorCodes.CORRUPT_MESSAGE);
    expect((await call(ApiKeys.PRODUCE, 9, produce('nope', small))).responses[0].partitionResponses[0].errorCode).toBe(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await call(ApiKeys.FETCH, 12, fetch('good', 5n))).responses[0].partitions[0].errorCode).toBe(ErrorCodes.OFFSET_OUT_OF_RANGE);
    // And everyone else is still served.
    expect((await call(ApiKeys.PRODUCE, 9, produce('good', small))).responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0n });
  });

  it('deletes topics by name (v4) and by id (v6): their directories go and the name can be reused', async () => {
    const dataDir = tempDir();
    const { call } = await start({ 'auto.create.topics.enable': false }, dataDir);
    const create = (name: string) => call(ApiKeys.CREATE_TOPICS, 7, { topics: [{ name, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5_000, validateOnly: false });
    const byName = (await create('doomed')).topics[0];
    const byId = (await create('also-doomed')).topics[0];
    await call(ApiKeys.PRODUCE, 9, produce('doomed', (await kafkajsBatch(0, 3, 1_700_000_000_000)).bytes));
    const v4 = await call(ApiKeys.DELETE_TOPICS, 4, { topicNames: ['doomed', 'never-was'], timeoutMs: 5_000 });
    expect(v4.responses.map((r: Body) => [r.name, r.errorCode])).toEqual([['doomed', 0], ['never-was', ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION]]);
    const v6 = await call(ApiKeys.DELETE_TOPICS, 6, { topics: [{ name: null, topicId: byId.topicId }], timeoutMs: 5_000 });
    expect(v6.responses[0]).toMatchObject({ name: 'also-doomed', topicId: byId.topicId, errorCode: 0 });
    expect(existsSync(join(dataDir, 'doomed-0'))).toBe(false);
    expect(existsSync(join(dataDir, 'also-doomed-1'))).toBe(false);
    const gone = await call(ApiKeys.METADATA, 12, { topics: [{ name: 'doomed' }], allowAutoTopicCreation: false });
    expect(gone.topics[0].errorCode).toBe(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    const again = (await create('doomed')).topics[0];
    expect(again.topicId).not.toBe(byName.topicId);
    const produced = await call(ApiKeys.PRODUCE, 9, produce('doomed', (await kafkajsBatch(0, 3, 1_700_000_000_000)).bytes));
    expect(produced.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0n });
  });

  it('applies retention on its own schedule, moving the earliest offset', async () => {
    const { call } = await start({ 'log.segment.bytes': 1_048_576, 'log.retention.bytes': 1_048_576, 'log.retention.check.interval.ms': 50 });
    await call(ApiKeys.CREATE_TOPICS, 7, { topics: [{ name: 'rolling', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5_000, validateOnly: false });
    const batch = (await kafkajsBatch(0, 15, 1_700_000_000_000, 1_000)).bytes;
    for (let i = 0; i < 250; i++) await call(ApiKeys.PRODUCE, 9, produce('rolling', batch)); // ~3.8 MB: four segments
    const earliest = async (): Promise<bigint> =>
      (await call(ApiKeys.LIST_OFFSETS, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'rolling', partitions: [{ partitionIndex: 0, timestamp: -2n }] }] })).topics[0].partitions[0].offset;
    // Wait (bounded) for a retention check to run: it is the broker's timer, not ours.
    const deadlineMs = performance.now() + 5_000;
    while ((await earliest()) === 0n && performance.now() < deadlineMs) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await earliest()).toBeGreaterThan(0n);
    const fetched = await call(ApiKeys.FETCH, 12, fetch('rolling', 250n * 15n - 1n));
    expect(fetched.responses[0].partitions[0].errorCode).toBe(0);
  });

  it('refuses a second cluster on the same data directory', async () => {
    const dir = tempDir();
    await start({}, dir);
    await expect(startCluster({ dataDir: dir, logger: memoryLogger().logger })).rejects.toBeInstanceOf(IllegalStateError);
  });

  it('restarts a killed broker, which recovers its log', async () => {
    const { cluster, call } = await start();
    await call(ApiKeys.CREATE_TOPICS, 7, { topics: [{ name: 'survivor', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5_000, validateOnly: false });
    await call(ApiKeys.PRODUCE, 9, produce('survivor', (await kafkajsBatch(0, 5, 1_700_000_000_000)).bytes));
    const restarted = new Promise((resolve) => cluster.supervisor.once('restart', resolve));
    await cluster.broker().kill();
    await restarted;
    const connection = await cluster.connect();
    const frame = encodeRequest({ apiKey: ApiKeys.LIST_OFFSETS, apiVersion: 7, correlationId: 1, clientId: 'x' }, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'survivor', partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });
    const answer = decodeResponse(ApiKeys.LIST_OFFSETS, 7, (await connection.request(frame, 5_000)).subarray(4)).body as Body;
    expect(answer.topics[0].partitions[0]).toMatchObject({ errorCode: 0, offset: 5n });
  });
});
