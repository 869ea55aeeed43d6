import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import type { KafkaClient } from '../../src/actors/kafka-client.js';
import { decodeOffsetsTopicKey, OFFSETS_TOPIC, offsetsPartitionFor } from '../../src/shared/offsets-topic-format.js';
import { readRecords, scanBatches } from '../../src/shared/record-batch/index.js';
import { ApiKeys, ErrorCodes } from '../../src/shared/protocol/index.js';
import { kafkajsBatch } from '../shared/log/kafkajs-batches.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { describeGroup, formGroup, TestMember, type Body } from './group-members.js';
import { memoryLogger } from './helpers.js';

const tempDir = useTempDirs();
const clusters: Cluster[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()));
});

const BROKER_CONFIG = { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 100, 'offsets.topic.num.partitions': 4 };

async function start(dataDir = tempDir()): Promise<{ cluster: Cluster; client: KafkaClient }> {
  const cluster = await startCluster({ dataDir, logger: memoryLogger().logger, brokerConfig: BROKER_CONFIG });
  clusters.push(cluster);
  const client = await cluster.client();
  return { cluster, client };
}

async function createTopic(client: KafkaClient, name: string, numPartitions: number): Promise<void> {
  await client.request(ApiKeys.CREATE_TOPICS, { topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5_000, validateOnly: false });
}

interface Commit {
  generationId?: number;
  memberId?: string;
  partitions: { partition: number; offset: bigint; metadata?: string | null; topic?: string }[];
}

/** OffsetCommit for group `groupId`; the error code of each partition, in order. */
async function commit(client: KafkaClient, groupId: string, { generationId = -1, memberId = '', partitions }: Commit, version?: number): Promise<number[]> {
  const topics = new Map<string, Body[]>();
  for (const p of partitions) {
    const topic = p.topic ?? 'orders';
    topics.set(topic, [...(topics.get(topic) ?? []), { partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: 0, committedMetadata: p.metadata ?? null, commitTimestamp: -1n }]);
  }
  const answer = await client.request(ApiKeys.OFFSET_COMMIT, {
    groupId, generationIdOrMemberEpoch: generationId, memberId, groupInstanceId: null, retentionTimeMs: -1n,
    topics: [...topics].map(([name, ps]) => ({ name, partitions: ps })),
  }, { version }) as Body;
  return (answer.topics as Body[]).flatMap((t) => (t.partitions as Body[]).map((p) => p.errorCode));
}

/** OffsetFetch (v8+, one group) of `partitions` of 'orders', or of everything the group committed. */
async function fetchOffsets(client: KafkaClient, groupId: string, partitions: number[] | null): Promise<Body[]> {
  const answer = await client.request(ApiKeys.OFFSET_FETCH, {
    groups: [{ groupId, memberId: null, memberEpoch: -1, topics: partitions === null ? null : [{ name: 'orders', partitionIndexes: partitions }] }],
    requireStable: false,
  }) as Body;
  expect(answer.groups[0].errorCode).toBe(0);
  return (answer.groups[0].topics as Body[]).flatMap((t) => (t.partitions as Body[]).map((p) => ({ topic: t.name, ...p })));
}

/** The group of every record in each partition's first segment of __consumer_offsets, read from disk. */
function recordsByPartition(dataDir: string, partitions: number): Map<number, string[]> {
  const found = new Map<number, string[]>();
  for (let partition = 0; partition < partitions; partition++) {
    const log = readFileSync(join(dataDir, `${OFFSETS_TOPIC}-${partition}`, '00000000000000000000.log'));
    const groups: string[] = [];
    for (const batch of scanBatches(log)) for (const record of readRecords(batch)) groups.push(decodeOffsetsTopicKey(record.key!)!.group);
    found.set(partition, groups);
  }
  return found;
}

describe('group coordinator: committed offsets', () => {
  it('commits and fetches offsets with their metadata, -1 where nothing was committed', async () => {
    const { client } = await start();
    await createTopic(client, 'orders', 3);
    await createTopic(client, 'refunds', 1);
    expect(await commit(client, 'billing', { partitions: [{ partition: 0, offset: 42n, metadata: 'host-a' }, { partition: 1, offset: 7n }, { topic: 'refunds', partition: 0, offset: 3n }] })).toEqual([0, 0, 0]);
    expect(await fetchOffsets(client, 'billing', [0, 1, 2])).toEqual([
      { topic: 'orders', partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 0, metadata: 'host-a', errorCode: 0 },
      { topic: 'orders', partitionIndex: 1, committedOffset: 7n, committedLeaderEpoch: 0, metadata: '', errorCode: 0 },
      { topic: 'orders', partitionIndex: 2, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
    ]);
    // topics null: everything the group committed.
    expect((await fetchOffsets(client, 'billing', null)).map((p) => [p.topic, p.partitionIndex, p.committedOffset])).toEqual([
      ['orders', 0, 42n], ['orders', 1, 7n], ['refunds', 0, 3n],
    ]);
    // A later commit replaces; an unknown group has nothing; v1 answers the same, without leader epochs.
    expect(await commit(client, 'billing', { partitions: [{ partition: 0, offset: 43n, metadata: 'host-b' }] }, 2)).toEqual([0]);
    const v1 = await client.request(ApiKeys.OFFSET_FETCH, { groupId: 'billing', topics: [{ name: 'orders', partitionIndexes: [0] }] }, { version: 1 }) as Body;
    expect(v1.topics[0].partitions[0]).toMatchObject({ committedOffset: 43n, metadata: 'host-b', errorCode: 0 });
    expect(await fetchOffsets(client, 'nobody', null)).toEqual([]);
    // The empty group id is allowed for offsets, as in Kafka.
    expect(await commit(client, '', { partitions: [{ partition: 2, offset: 1n }] })).toEqual([0]);
  });

  it('checks commits: unknown partitions, long metadata, members and generations of an active group', async () => {
    const { cluster, client } = await start();
    await createTopic(client, 'orders', 2);
    expect(await commit(client, 'checked', { partitions: [{ partition: 5, offset: 1n }, { topic: 'nope', partition: 0, offset: 1n }] })).toEqual([
      ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    expect(await commit(client, 'checked', { partitions: [{ partition: 0, offset: 1n, metadata: 'x'.repeat(4_097) }, { partition: 1, offset: 1n }] })).toEqual([
      ErrorCodes.OFFSET_METADATA_TOO_LARGE, 0,
    ]);
    // A generation for a group that does not exist is from a generation long gone.
    expect(await commit(client, 'not-yet', { generationId: 3, memberId: 'm', partitions: [{ partition: 0, offset: 1n }] })).toEqual([ErrorCodes.ILLEGAL_GENERATION]);

    const member = await TestMember.connect(cluster, 'checked');
    await formGroup([member]);
    const asMember = { generationId: member.generationId, memberId: member.memberId };
    expect(await commit(member.client, 'checked', { ...asMember, partitions: [{ partition: 0, offset: 10n }] })).toEqual([0]);
    expect(await commit(client, 'checked', { ...asMember, generationId: member.generationId - 1, partitions: [{ partition: 0, offset: 11n }] })).toEqual([ErrorCodes.ILLEGAL_GENERATION]);
    expect(await commit(client, 'checked', { ...asMember, memberId: 'impostor', partitions: [{ partition: 0, offset: 11n }] })).toEqual([ErrorCodes.UNKNOWN_MEMBER_ID]);
    // A commit without a generation is for groups with no members.
    expect(await commit(client, 'checked', { partitions: [{ partition: 0, offset: 11n }] })).toEqual([ErrorCodes.UNKNOWN_MEMBER_ID]);
    expect((await fetchOffsets(client, 'checked', [0]))[0]!.committedOffset).toBe(10n);
  });

  it('creates the offsets topic once under concurrent first commits, each group\'s records in its own partition', async () => {
    const dataDir = tempDir();
    const { client } = await start(dataDir);
    await createTopic(client, 'orders', 1);
    const groups = Array.from({ length: 12 }, (_, i) => `concurrent-${i}`);
    const results = await Promise.all(groups.map((g, i) => commit(client, g, { partitions: [{ partition: 0, offset: BigInt(i) }] })));
    expect(results.flat()).toEqual(groups.map(() => 0));
    for (const [i, g] of groups.entries()) expect((await fetchOffsets(client, g, [0]))[0]!.committedOffset).toBe(BigInt(i));
    const found = recordsByPartition(dataDir, 4);
    expect([...found.values()].flat().sort()).toEqual([...groups].sort());
    for (const [partition, inIt] of found) for (const g of inIt) expect(offsetsPartitionFor(g, 4)).toBe(partition);
  });

  it('keeps committed offsets and the group\'s generation and members across a clean restart', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    await createTopic(first.client, 'orders', 2);
    const member = await TestMember.connect(first.cluster, 'durable');
    await formGroup([member]);
    expect(await commit(member.client, 'durable', { generationId: member.generationId, memberId: member.memberId, partitions: [{ partition: 0, offset: 100n, metadata: 'm' }, { partition: 1, offset: 200n }] })).toEqual([0, 0]);
    expect(await commit(first.client, 'simple', { partitions: [{ partition: 1, offset: 5n }] })).toEqual([0]);
    await first.cluster.close();

    const second = await start(dataDir);
    expect((await fetchOffsets(second.client, 'durable', [0, 1])).map((p) => [p.committedOffset, p.metadata])).toEqual([[100n, 'm'], [200n, '']]);
    expect((await fetchOffsets(second.client, 'simple', [1]))[0]!.committedOffset).toBe(5n);
    // The group comes back Stable with its generation and members (as Kafka loads it); the member carries on.
    const described = await describeGroup(second.client, 'durable');
    expect(described).toMatchObject({ groupState: 'Stable', protocolType: 'consumer', protocolData: 'range', members: [{ memberId: member.memberId }] });
    const again = new TestMember(await second.cluster.client(), 'durable');
    Object.assign(again, { memberId: member.memberId, generationId: member.generationId });
    expect(await again.heartbeat()).toBe(0);
    // Each group's records are in the partition its id hashes to (Kafka's partitionFor).
    for (const [partition, groups] of recordsByPartition(dataDir, 4)) for (const g of groups) expect(offsetsPartitionFor(g, 4)).toBe(partition);
  });

  it('keeps them when the broker is killed and restarted by its supervisor; an empty group keeps its generation', async () => {
    const { cluster, client } = await start();
    await createTopic(client, 'orders', 1);
    const member = await TestMember.connect(cluster, 'crashy');
    await formGroup([member]);
    expect(await commit(member.client, 'crashy', { generationId: 1, memberId: member.memberId, partitions: [{ partition: 0, offset: 8n }] })).toEqual([0]);
    await member.leave(); // the group goes Empty, at generation 2, and that is stored too
    expect(await describeGroup(client, 'crashy')).toMatchObject({ groupState: 'Empty', members: [] });
    // An Empty group takes commits without a generation. This one lands after the Empty group's
    // record in the same partition, so once it is answered that record is written too.
    expect(await commit(client, 'crashy', { partitions: [{ partition: 0, offset: 9n }] })).toEqual([0]);
    const restarted = new Promise((resolve) => cluster.supervisor.once('restart', resolve));
    await cluster.broker().kill();
    await restarted;
    const after = await cluster.client();
    expect((await fetchOffsets(after, 'crashy', [0]))[0]!.committedOffset).toBe(9n);
    expect(await describeGroup(after, 'crashy')).toMatchObject({ groupState: 'Empty', protocolType: 'consumer' });
    // The next generation follows the stored one.
    const next = await TestMember.connect(cluster, 'crashy');
    expect((await next.join()).generationId).toBe(3);
  });

  it('refuses produce requests to __consumer_offsets, as Kafka does for internal topics', async () => {
    const { client } = await start();
    await client.request(ApiKeys.FIND_COORDINATOR, { keyType: 0, coordinatorKeys: ['g'] });
    const produced = await client.request(ApiKeys.PRODUCE, {
      acks: -1, timeoutMs: 5_000, topicData: [{ name: OFFSETS_TOPIC, partitionData: [{ index: 0, records: (await kafkajsBatch(0, 1, 1_700_000_000_000)).bytes }] }],
    }) as Body;
    expect(produced.responses[0].partitionResponses[0].errorCode).toBe(ErrorCodes.INVALID_TOPIC_EXCEPTION);
  });
});
