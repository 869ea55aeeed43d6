/**
 * Cross-checks with KafkaJS 2.2.4, an independent implementation of the same protocol, for every
 * version KafkaJS implements of our 17 APIs:
 * - requests: KafkaJS's encoder (its request.js adds the v1 header and size) and ours, from the
 *   same values, must give the same bytes; and ours must decode KafkaJS's frame back;
 * - responses: bytes from our encodeResponse, minus the size and the v0 header (as KafkaJS's
 *   connection strips them), must decode with KafkaJS's response decoders to the same values.
 * KafkaJS speaks only non-flexible versions, so this covers header v1 / response header v0.
 */
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { decodeData, decodeRequest, encodeData, encodeRequest, encodeResponse, type Body } from '../../../src/shared/protocol/index.js';

const require = createRequire(import.meta.url);

interface KafkaJSRequest {
  apiKey: number;
  apiVersion: number;
  encode(): Promise<{ buffer: Buffer }>;
}
type RequestFactory = (args: Record<string, unknown>) => KafkaJSRequest;
interface ResponseCodec {
  decode(payload: Buffer): Promise<Record<string, unknown>>;
}

const kafkajsRequest = (api: string, version: number): RequestFactory => require(`kafkajs/src/protocol/requests/${api}/v${version}/request`) as RequestFactory;
const kafkajsResponse = (api: string, version: number): ResponseCodec => require(`kafkajs/src/protocol/requests/${api}/v${version}/response`) as ResponseCodec;
const frameRequest = require('kafkajs/src/protocol/request') as (a: { correlationId: number; clientId: string; request: KafkaJSRequest }) => Promise<{ buffer: Buffer }>;
const { MemberMetadata, MemberAssignment } = require('kafkajs/src/consumer/assignerProtocol') as {
  MemberMetadata: { encode(a: { version: number; topics: string[]; userData?: Buffer }): Buffer; decode(b: Buffer): unknown };
  MemberAssignment: { encode(a: { version: number; assignment: Record<string, number[]>; userData?: Buffer }): Buffer; decode(b: Buffer): unknown };
};
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch(a: Record<string, unknown>): Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (a: Record<string, unknown>) => unknown;

const CLIENT_ID = 'ringlog-test';
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** KafkaJS's frame for `args` must equal ours for `body`, and ours must decode KafkaJS's. */
async function sameRequest(api: string, version: number, args: Record<string, unknown>, body: Body): Promise<Buffer> {
  const request = kafkajsRequest(api, version)(args);
  const theirs = (await frameRequest({ correlationId: 1000 + version, clientId: CLIENT_ID, request })).buffer;
  const ours = encodeRequest({ apiKey: request.apiKey, apiVersion: version, correlationId: 1000 + version, clientId: CLIENT_ID }, body);
  expect(ours.toString('hex'), `${api} v${version}`).toBe(theirs.toString('hex'));
  const decoded = decodeRequest(theirs.subarray(4));
  expect(decoded.header).toMatchObject({ apiKey: request.apiKey, apiVersion: version, correlationId: 1000 + version, clientId: CLIENT_ID });
  return theirs;
}

/** KafkaJS's decoder of version `version`, fed our response bytes without size and header. */
async function kafkajsDecode(api: string, apiKey: number, version: number, body: Body): Promise<Record<string, unknown>> {
  const frame = encodeResponse(apiKey, version, 77, body);
  expect(frame.readInt32BE(4)).toBe(77);
  return kafkajsResponse(api, version).decode(frame.subarray(8));
}

const subscription = MemberMetadata.encode({ version: 0, topics: ['topic-a', 'topic-b'], userData: Buffer.from('ud') });
const assignment = MemberAssignment.encode({ version: 0, assignment: { 'topic-a': [0, 2], 'topic-b': [1] }, userData: Buffer.alloc(0) });

describe('consumer protocol bytes', () => {
  test('subscription and assignment v0 are byte-identical to KafkaJS', () => {
    expect(encodeData('ConsumerProtocolSubscription', 0, { topics: ['topic-a', 'topic-b'], userData: Buffer.from('ud') })).toEqual(subscription);
    expect(encodeData('ConsumerProtocolAssignment', 0, { assignedPartitions: [{ topic: 'topic-a', partitions: [0, 2] }, { topic: 'topic-b', partitions: [1] }], userData: Buffer.alloc(0) })).toEqual(assignment);
    expect(decodeData('ConsumerProtocolSubscription', subscription).body).toMatchObject({ topics: ['topic-a', 'topic-b'], userData: Buffer.from('ud') });
    expect(MemberAssignment.decode(encodeData('ConsumerProtocolAssignment', 3, { assignedPartitions: [{ topic: 't', partitions: [5] }], userData: null }))).toEqual({
      version: 3,
      assignment: { t: [5] },
      userData: null,
    });
  });
});

describe('requests are byte-identical to KafkaJS', () => {
  test.each(range(0, 7))('Produce v%i', async (v) => {
    const args = {
      acks: -1, timeout: 30000, compression: 0, transactionalId: null,
      topicData: [{
        topic: 'topic-a',
        partitions: [
          { partition: 0, firstSequence: 0, messages: [{ key: 'k1', value: 'v1', timestamp: 1700000000000 }, { key: null, value: 'v2', timestamp: 1700000000001 }] },
          { partition: 3, firstSequence: 0, messages: [{ key: 'k3', value: 'v3', timestamp: 1700000000002, headers: { h: 'x' } }] },
        ],
      }],
    };
    // The record bytes are KafkaJS's (message sets before v3, record batches after): take them
    // from its frame, then the rest must match field by field and byte for byte.
    const request = kafkajsRequest('produce', v)(args);
    const theirs = (await frameRequest({ correlationId: 5, clientId: CLIENT_ID, request })).buffer;
    const decoded = decodeRequest(theirs.subarray(4)).body as { topicData: { partitionData: { records: Buffer }[] }[] };
    const [p0, p3] = decoded.topicData[0].partitionData.map((p) => p.records);
    expect(decoded).toEqual({
      transactionalId: null, acks: -1, timeoutMs: 30000,
      topicData: [{ name: 'topic-a', partitionData: [{ index: 0, records: p0 }, { index: 3, records: p3 }] }],
    });
    if (v >= 3) expect(p0.readInt8(16)).toBe(2); // RecordBatch magic
    await sameRequest('produce', v, args, decoded);
  });

  test.each(range(0, 11))('Fetch v%i', async (v) => {
    const args = {
      replicaId: -1, maxWaitTime: 500, minBytes: 1, maxBytes: 1048576, isolationLevel: 1, sessionId: 12, sessionEpoch: 3, rackId: 'rack-1',
      forgottenTopics: [{ topic: 'gone', partitions: [3, 4] }],
      topics: [{ topic: 'topic-a', partitions: [{ partition: 0, fetchOffset: '5', logStartOffset: '-1', maxBytes: 65536, currentLeaderEpoch: 7 }, { partition: 1, fetchOffset: '9007199254740993', maxBytes: 1 }] }],
    };
    const body = {
      replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 1048576, isolationLevel: 1, sessionId: 12, sessionEpoch: 3, rackId: 'rack-1',
      forgottenTopicsData: [{ topic: 'gone', partitions: [3, 4] }],
      topics: [{ topic: 'topic-a', partitions: [
        { partition: 0, currentLeaderEpoch: 7, fetchOffset: 5n, logStartOffset: -1n, partitionMaxBytes: 65536 },
        { partition: 1, fetchOffset: 9007199254740993n, partitionMaxBytes: 1 },
      ] }],
    };
    await sameRequest('fetch', v, args, body);
  });

  test.each(range(0, 3))('ListOffsets v%i', async (v) => {
    const args = { replicaId: -1, isolationLevel: 1, topics: [{ topic: 'topic-a', partitions: [{ partition: 0, timestamp: -1, maxNumOffsets: 1 }, { partition: 2, timestamp: 1700000000000, maxNumOffsets: 1 }] }] };
    const body = { replicaId: -1, isolationLevel: 1, topics: [{ name: 'topic-a', partitions: [{ partitionIndex: 0, timestamp: -1n, maxNumOffsets: 1 }, { partitionIndex: 2, timestamp: 1700000000000n, maxNumOffsets: 1 }] }] };
    await sameRequest('listOffsets', v, args, body);
  });

  test.each(range(0, 6))('Metadata v%i', async (v) => {
    await sameRequest('metadata', v, { topics: ['topic-a', 'topic-b'], allowAutoTopicCreation: false }, { topics: [{ name: 'topic-a' }, { name: 'topic-b' }], allowAutoTopicCreation: false });
  });

  test.each(range(0, 5))('OffsetCommit v%i', async (v) => {
    const args = { groupId: 'group', groupGenerationId: 3, memberId: 'member-1', retentionTime: -1, topics: [{ topic: 'topic-a', partitions: [{ partition: 0, offset: '42', metadata: null, timestamp: -1 }, { partition: 1, offset: '7', metadata: 'meta', timestamp: -1 }] }] };
    const body = {
      groupId: 'group', generationIdOrMemberEpoch: 3, memberId: 'member-1', retentionTimeMs: -1n,
      topics: [{ name: 'topic-a', partitions: [{ partitionIndex: 0, committedOffset: 42n, commitTimestamp: -1n, committedMetadata: null }, { partitionIndex: 1, committedOffset: 7n, commitTimestamp: -1n, committedMetadata: 'meta' }] }],
    };
    await sameRequest('offsetCommit', v, args, body);
  });

  test.each(range(1, 4))('OffsetFetch v%i', async (v) => {
    await sameRequest('offsetFetch', v, { groupId: 'group', topics: [{ topic: 'topic-a', partitions: [{ partition: 0 }, { partition: 1 }] }] }, { groupId: 'group', topics: [{ name: 'topic-a', partitionIndexes: [0, 1] }] });
  });

  test.each(range(0, 2))('FindCoordinator v%i', async (v) => {
    const args = v === 0 ? { groupId: 'group' } : { coordinatorKey: 'tx-1', coordinatorType: 1 };
    await sameRequest('findCoordinator', v, args, v === 0 ? { key: 'group' } : { key: 'tx-1', keyType: 1 });
  });

  test.each(range(0, 5))('JoinGroup v%i', async (v) => {
    const args = { groupId: 'group', sessionTimeout: 30000, rebalanceTimeout: 60000, memberId: '', groupInstanceId: null, protocolType: 'consumer', groupProtocols: [{ name: 'RoundRobinAssigner', metadata: subscription }] };
    const metadata = encodeData('ConsumerProtocolSubscription', 0, { topics: ['topic-a', 'topic-b'], userData: Buffer.from('ud') });
    const body = { groupId: 'group', sessionTimeoutMs: 30000, rebalanceTimeoutMs: 60000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'RoundRobinAssigner', metadata }] };
    await sameRequest('joinGroup', v, args, body);
  });

  test.each(range(0, 3))('SyncGroup v%i', async (v) => {
    const args = { groupId: 'group', generationId: 1, memberId: 'm1', groupInstanceId: 'instance', groupAssignment: [{ memberId: 'm1', memberAssignment: assignment }, { memberId: 'm2', memberAssignment: Buffer.alloc(0) }] };
    const body = { groupId: 'group', generationId: 1, memberId: 'm1', groupInstanceId: 'instance', assignments: [{ memberId: 'm1', assignment }, { memberId: 'm2', assignment: Buffer.alloc(0) }] };
    await sameRequest('syncGroup', v, args, body);
  });

  test.each(range(0, 3))('Heartbeat v%i', async (v) => {
    await sameRequest('heartbeat', v, { groupId: 'group', groupGenerationId: 4, memberId: 'm1', groupInstanceId: null }, { groupId: 'group', generationId: 4, memberId: 'm1', groupInstanceId: null });
  });

  test.each(range(0, 3))('LeaveGroup v%i', async (v) => {
    const args = v < 3 ? { groupId: 'group', memberId: 'm1' } : { groupId: 'group', members: [{ memberId: 'm1', groupInstanceId: null }, { memberId: 'm2', groupInstanceId: 'i2' }] };
    const body = v < 3 ? { groupId: 'group', memberId: 'm1' } : { groupId: 'group', members: [{ memberId: 'm1', groupInstanceId: null }, { memberId: 'm2', groupInstanceId: 'i2' }] };
    await sameRequest('leaveGroup', v, args, body);
  });

  test.each(range(0, 2))('DescribeGroups v%i', async (v) => {
    await sameRequest('describeGroups', v, { groupIds: ['g1', 'g2'] }, { groups: ['g1', 'g2'] });
  });

  test.each(range(0, 2))('ListGroups v%i', async (v) => {
    await sameRequest('listGroups', v, {}, {});
  });

  test.each(range(0, 2))('ApiVersions v%i', async (v) => {
    await sameRequest('apiVersions', v, {}, {});
  });

  test.each(range(0, 3))('CreateTopics v%i', async (v) => {
    const args = {
      validateOnly: true, timeout: 5000,
      topics: [
        { topic: 'topic-a', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'retention.ms', value: null }] },
        { topic: 'topic-b', replicaAssignment: [{ partition: 0, replicas: [1, 2] }, { partition: 1, replicas: [2, 1] }] },
      ],
    };
    const body = {
      validateOnly: true, timeoutMs: 5000,
      topics: [
        { name: 'topic-a', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'retention.ms', value: null }] },
        { name: 'topic-b', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [2, 1] }], configs: [] },
      ],
    };
    await sameRequest('createTopics', v, args, body);
  });

  test.each(range(0, 1))('DeleteTopics v%i', async (v) => {
    await sameRequest('deleteTopics', v, { topics: ['topic-a', 'topic-b'], timeout: 5000 }, { topicNames: ['topic-a', 'topic-b'], timeoutMs: 5000 });
  });

  test.each(range(0, 1))('InitProducerId v%i', async (v) => {
    await sameRequest('initProducerId', v, { transactionalId: 'tx-1', transactionTimeout: 60000 }, { transactionalId: 'tx-1', transactionTimeoutMs: 60000 });
    await sameRequest('initProducerId', v, { transactionalId: null, transactionTimeout: 60000 }, { transactionalId: null, transactionTimeoutMs: 60000 });
  });
});

describe('KafkaJS decodes our responses', () => {
  test.each(range(0, 7))('Produce v%i', async (v) => {
    const body = {
      responses: [{ name: 'topic-a', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 42n, logAppendTimeMs: -1n, logStartOffset: 0n }, { index: 1, errorCode: 6, baseOffset: -1n }] }],
      throttleTimeMs: 10,
    };
    const decoded = await kafkajsDecode('produce', 0, v, body);
    const partitions = v < 2
      ? [{ partition: 0, errorCode: 0, offset: '42' }, { partition: 1, errorCode: 6, offset: '-1' }]
      : v === 2
        ? [{ partition: 0, errorCode: 0, offset: '42', timestamp: '-1' }, { partition: 1, errorCode: 6, offset: '-1', timestamp: '-1' }]
        : [{ partition: 0, errorCode: 0, baseOffset: '42', logAppendTime: '-1' }, { partition: 1, errorCode: 6, baseOffset: '-1', logAppendTime: '-1' }];
    if (v >= 5) Object.assign(partitions[0], { logStartOffset: '0' });
    expect(decoded).toMatchObject({ topics: [{ topicName: 'topic-a', partitions }] });
    if (v >= 1) expect(decoded.throttleTime ?? decoded.clientSideThrottleTime).toBeDefined();
  });

  test.each(range(0, 11))('Fetch v%i (records pass through untouched)', async (v) => {
    // Before v4 KafkaJS expects old message sets; send it none there.
    const batch = (await RecordBatch({
      firstOffset: '100', firstTimestamp: 1700000000000, maxTimestamp: 1700000000000, lastOffsetDelta: 0,
      records: [Record({ key: Buffer.from('k'), value: Buffer.from('hello'), offsetDelta: 0, timestampDelta: 0 })],
    })).buffer;
    const body = {
      throttleTimeMs: 0, errorCode: 0, sessionId: 9,
      responses: [{ topic: 'topic-a', partitions: [{
        partitionIndex: 0, errorCode: 0, highWatermark: 101n, lastStableOffset: 101n, logStartOffset: 0n,
        abortedTransactions: [{ producerId: 5n, firstOffset: 90n }], preferredReadReplica: -1,
        records: v >= 4 ? batch : Buffer.alloc(0),
      }] }],
    };
    const decoded = await kafkajsDecode('fetch', 1, v, body);
    const partition: Record<string, unknown> = { partition: 0, errorCode: 0, highWatermark: '101' };
    if (v >= 4) Object.assign(partition, { lastStableOffset: '101', abortedTransactions: [{ producerId: '5', firstOffset: '90' }] });
    if (v >= 5) Object.assign(partition, { lastStartOffset: '0' });
    if (v >= 11) Object.assign(partition, { preferredReadReplica: -1 });
    expect(decoded).toMatchObject({ responses: [{ topicName: 'topic-a', partitions: [partition] }] });
    if (v >= 7) expect(decoded).toMatchObject({ errorCode: 0, sessionId: 9 });
    const messages = (decoded.responses as { partitions: { messages: { offset: string; key: Buffer; value: Buffer }[] }[] }[])[0].partitions[0].messages;
    if (v >= 4) expect(messages.map((m) => [m.offset, m.key.toString(), m.value.toString()])).toEqual([['100', 'k', 'hello']]);
    else expect(messages).toEqual([]);
  });

  test.each(range(0, 3))('ListOffsets v%i', async (v) => {
    const body = { throttleTimeMs: 0, topics: [{ name: 'topic-a', partitions: [{ partitionIndex: 0, errorCode: 0, oldStyleOffsets: [42n, 7n], timestamp: 1700000000000n, offset: 42n }] }] };
    const decoded = await kafkajsDecode('listOffsets', 2, v, body);
    const partition = v === 0 ? { partition: 0, errorCode: 0, offsets: ['42', '7'] } : { partition: 0, errorCode: 0, timestamp: '1700000000000', offset: '42' };
    expect(decoded).toMatchObject({ responses: [{ topic: 'topic-a', partitions: [partition] }] });
  });

  test.each(range(0, 6))('Metadata v%i', async (v) => {
    const body = {
      throttleTimeMs: 0, clusterId: 'cluster-x', controllerId: 1,
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: 'r1' }, { nodeId: 2, host: 'other', port: 9093, rack: null }],
      topics: [{ errorCode: 0, name: 'topic-a', isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1, 2], isrNodes: [1], offlineReplicas: [2] }] }],
    };
    const decoded = await kafkajsDecode('metadata', 3, v, body);
    const brokers = v === 0 ? [{ nodeId: 1, host: 'localhost', port: 9092 }, { nodeId: 2, host: 'other', port: 9093 }] : [{ nodeId: 1, host: 'localhost', port: 9092, rack: 'r1' }, { nodeId: 2, host: 'other', port: 9093, rack: null }];
    const partition: Record<string, unknown> = { partitionErrorCode: 0, partitionId: 0, leader: 1, replicas: [1, 2], isr: [1] };
    if (v >= 5) partition.offlineReplicas = [2];
    const topic: Record<string, unknown> = { topicErrorCode: 0, topic: 'topic-a', partitionMetadata: [partition] };
    if (v >= 1) topic.isInternal = false;
    expect(decoded).toMatchObject({ brokers, topicMetadata: [topic] });
    if (v >= 1) expect(decoded.controllerId).toBe(1);
    if (v >= 2) expect(decoded.clusterId).toBe('cluster-x');
  });

  test.each(range(0, 5))('OffsetCommit v%i', async (v) => {
    const decoded = await kafkajsDecode('offsetCommit', 8, v, { throttleTimeMs: 0, topics: [{ name: 'topic-a', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 22 }] }] });
    expect(decoded).toMatchObject({ responses: [{ topic: 'topic-a', partitions: [{ partition: 0, errorCode: 0 }, { partition: 1, errorCode: 22 }] }] });
  });

  test.each(range(1, 4))('OffsetFetch v%i', async (v) => {
    const body = { throttleTimeMs: 0, errorCode: 0, topics: [{ name: 'topic-a', partitions: [{ partitionIndex: 0, committedOffset: 42n, metadata: '', errorCode: 0 }, { partitionIndex: 1, committedOffset: -1n, metadata: null, errorCode: 0 }] }] };
    const decoded = await kafkajsDecode('offsetFetch', 9, v, body);
    expect(decoded).toMatchObject({ responses: [{ topic: 'topic-a', partitions: [{ partition: 0, offset: '42', metadata: '', errorCode: 0 }, { partition: 1, offset: '-1', metadata: null, errorCode: 0 }] }] });
    if (v >= 2) expect(decoded.errorCode).toBe(0);
  });

  test.each(range(0, 2))('FindCoordinator v%i', async (v) => {
    const decoded = await kafkajsDecode('findCoordinator', 10, v, { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 2, host: 'broker-2', port: 9093 });
    expect(decoded).toMatchObject({ errorCode: 0, coordinator: { nodeId: 2, host: 'broker-2', port: 9093 } });
    if (v >= 1) expect(decoded.errorMessage).toBeNull();
  });

  test.each(range(0, 5))('JoinGroup v%i', async (v) => {
    const body = {
      throttleTimeMs: 0, errorCode: 0, generationId: 3, protocolName: 'RoundRobinAssigner', leader: 'm1', memberId: 'm2',
      members: [{ memberId: 'm1', groupInstanceId: null, metadata: subscription }, { memberId: 'm2', groupInstanceId: 'i2', metadata: subscription }],
    };
    const decoded = await kafkajsDecode('joinGroup', 11, v, body);
    const members = body.members.map((m) => (v >= 5 ? { memberId: m.memberId, groupInstanceId: m.groupInstanceId, memberMetadata: subscription } : { memberId: m.memberId, memberMetadata: subscription }));
    expect(decoded).toMatchObject({ errorCode: 0, generationId: 3, groupProtocol: 'RoundRobinAssigner', leaderId: 'm1', memberId: 'm2', members });
    expect(MemberMetadata.decode((decoded.members as { memberMetadata: Buffer }[])[0].memberMetadata)).toEqual({ version: 0, topics: ['topic-a', 'topic-b'], userData: Buffer.from('ud') });
  });

  test.each(range(0, 3))('SyncGroup v%i', async (v) => {
    const decoded = await kafkajsDecode('syncGroup', 14, v, { throttleTimeMs: 0, errorCode: 0, assignment });
    expect(decoded).toMatchObject({ errorCode: 0, memberAssignment: assignment });
  });

  test.each(range(0, 3))('Heartbeat v%i', async (v) => {
    expect(await kafkajsDecode('heartbeat', 12, v, { throttleTimeMs: 0, errorCode: 27 })).toMatchObject({ errorCode: 27 });
  });

  test.each(range(0, 3))('LeaveGroup v%i', async (v) => {
    const decoded = await kafkajsDecode('leaveGroup', 13, v, { throttleTimeMs: 0, errorCode: 0, members: [{ memberId: 'm1', groupInstanceId: null, errorCode: 25 }] });
    expect(decoded).toMatchObject(v < 3 ? { errorCode: 0 } : { errorCode: 0, members: [{ memberId: 'm1', groupInstanceId: null, errorCode: 25 }] });
  });

  test.each(range(0, 2))('DescribeGroups v%i', async (v) => {
    const body = {
      throttleTimeMs: 0,
      groups: [{ errorCode: 0, groupId: 'g1', groupState: 'Stable', protocolType: 'consumer', protocolData: 'RoundRobinAssigner', members: [{ memberId: 'm1', clientId: 'c1', clientHost: '/127.0.0.1', memberMetadata: subscription, memberAssignment: assignment }] }],
    };
    const decoded = await kafkajsDecode('describeGroups', 15, v, body);
    expect(decoded).toMatchObject({ groups: [{ errorCode: 0, groupId: 'g1', state: 'Stable', protocolType: 'consumer', protocol: 'RoundRobinAssigner', members: [{ memberId: 'm1', clientId: 'c1', clientHost: '/127.0.0.1', memberMetadata: subscription, memberAssignment: assignment }] }] });
  });

  test.each(range(0, 2))('ListGroups v%i', async (v) => {
    const decoded = await kafkajsDecode('listGroups', 16, v, { throttleTimeMs: 0, errorCode: 0, groups: [{ groupId: 'g1', protocolType: 'consumer' }, { groupId: 'g2', protocolType: '' }] });
    expect(decoded).toMatchObject({ errorCode: 0, groups: [{ groupId: 'g1', protocolType: 'consumer' }, { groupId: 'g2', protocolType: '' }] });
  });

  test.each(range(0, 2))('ApiVersions v%i', async (v) => {
    const decoded = await kafkajsDecode('apiVersions', 18, v, { errorCode: 0, apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 11 }, { apiKey: 18, minVersion: 0, maxVersion: 4 }], throttleTimeMs: 0 });
    expect(decoded).toMatchObject({ errorCode: 0, apiVersions: [{ apiKey: 0, minVersion: 3, maxVersion: 11 }, { apiKey: 18, minVersion: 0, maxVersion: 4 }] });
  });

  test.each(range(0, 3))('CreateTopics v%i', async (v) => {
    const body = { throttleTimeMs: 0, topics: [{ name: 'topic-a', errorCode: 0, errorMessage: null }, { name: 'topic-b', errorCode: 36, errorMessage: 'exists' }] };
    const decoded = await kafkajsDecode('createTopics', 19, v, body);
    expect(decoded).toMatchObject({ topicErrors: v === 0 ? [{ topic: 'topic-a', errorCode: 0 }, { topic: 'topic-b', errorCode: 36 }] : [{ topic: 'topic-a', errorCode: 0, errorMessage: null }, { topic: 'topic-b', errorCode: 36, errorMessage: 'exists' }] });
  });

  test.each(range(0, 1))('DeleteTopics v%i', async (v) => {
    const decoded = await kafkajsDecode('deleteTopics', 20, v, { throttleTimeMs: 0, responses: [{ name: 'topic-a', errorCode: 0 }, { name: 'topic-b', errorCode: 3 }] });
    expect(decoded).toMatchObject({ topicErrors: [{ topic: 'topic-a', errorCode: 0 }, { topic: 'topic-b', errorCode: 3 }] });
  });

  test.each(range(0, 1))('InitProducerId v%i', async (v) => {
    const decoded = await kafkajsDecode('initProducerId', 22, v, { throttleTimeMs: 0, errorCode: 0, producerId: 9007199254740993n, producerEpoch: 4 });
    expect(decoded).toMatchObject({ errorCode: 0, producerId: '9007199254740993', producerEpoch: 4 });
  });
});
