import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import { ApiKeys, DataMessages, decodeData, ErrorCodes } from '../../src/shared/protocol/index.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { assignedPartitions, describeGroup, formGroup, TestMember, type Body } from './group-members.js';
import { memoryLogger } from './helpers.js';

const tempDir = useTempDirs();
const clusters: Cluster[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()));
});

/** A broker whose groups allow short sessions and wait `initialDelayMs` before their first rebalance. */
async function start(initialDelayMs = 300, extra: Record<string, unknown> = {}): Promise<Cluster> {
  const cluster = await startCluster({
    dataDir: tempDir(),
    logger: memoryLogger().logger,
    brokerConfig: { 'group.initial.rebalance.delay.ms': initialDelayMs, 'group.min.session.timeout.ms': 100, 'offsets.topic.num.partitions': 5, ...extra },
  });
  clusters.push(cluster);
  return cluster;
}

const members = (cluster: Cluster, groupId: string, count: number, options = {}): Promise<TestMember[]> =>
  Promise.all(Array.from({ length: count }, (_, i) => TestMember.connect(cluster, groupId, { clientId: `consumer-${i}`, ...options })));

describe('group coordinator: membership', () => {
  it('forms a group of three: member ids come from the coordinator, the leader gets every subscription, each member its assignment', async () => {
    const cluster = await start();
    const three = await members(cluster, 'trio', 3, { topics: ['orders', 'payments'] });
    // The first JoinGroup (v4+) with no member id is answered MEMBER_ID_REQUIRED with the id to use.
    const first = await three[0]!.client.request(ApiKeys.JOIN_GROUP, three[0]!.joinRequest()) as Body;
    expect(first).toMatchObject({ errorCode: ErrorCodes.MEMBER_ID_REQUIRED, generationId: -1 });
    expect(first.memberId).toMatch(/^consumer-0-[0-9a-f-]{36}$/);

    const { joins, syncs } = await formGroup(three);
    expect(joins.map((j) => j.errorCode)).toEqual([0, 0, 0]);
    expect(new Set(joins.map((j) => j.generationId))).toEqual(new Set([1]));
    expect(new Set(joins.map((j) => j.leader)).size).toBe(1);
    expect(joins.map((j) => j.protocolName)).toEqual(['range', 'range', 'range']);
    const leader = three.find((m) => m.isLeader)!;
    expect(leader.lastJoin.members).toHaveLength(3);
    for (const member of leader.lastJoin.members as Body[]) {
      expect(decodeData(DataMessages.CONSUMER_PROTOCOL_SUBSCRIPTION, member.metadata).body.topics).toEqual(['orders', 'payments']);
    }
    expect((leader.lastJoin.members as Body[]).map((m) => m.memberId).sort()).toEqual(three.map((m) => m.memberId).sort());
    for (const follower of three.filter((m) => !m.isLeader)) expect(follower.lastJoin.members).toEqual([]);

    expect(syncs.map((s) => s.errorCode)).toEqual([0, 0, 0]);
    const given = syncs.map((s) => assignedPartitions(s.assignment)[0]!.partitions[0]);
    expect([...given].sort()).toEqual([0, 1, 2]);
    expect(syncs.map((s) => s.protocolName)).toEqual(['range', 'range', 'range']);
    expect(await Promise.all(three.map((m) => m.heartbeat()))).toEqual([0, 0, 0]);
  });

  it('rebalances when a fourth member joins: the others hear REBALANCE_IN_PROGRESS, rejoin, and the generation moves on', async () => {
    const cluster = await start();
    const three = await members(cluster, 'quartet', 3);
    await formGroup(three);
    const fourth = await TestMember.connect(cluster, 'quartet', { clientId: 'late' });
    const fourthJoined = fourth.join();
    await Promise.all(three.map((m) => m.heartbeatUntil(ErrorCodes.REBALANCE_IN_PROGRESS)));
    const admin = await cluster.client();
    expect((await describeGroup(admin, 'quartet')).groupState).toBe('PreparingRebalance');
    const [joins] = await Promise.all([Promise.all(three.map((m) => m.join())), fourthJoined]);
    const all = [...three, fourth];
    expect(all.map((m) => m.generationId)).toEqual([2, 2, 2, 2]);
    expect(joins.every((j) => j.errorCode === 0)).toBe(true);
    const leader = all.find((m) => m.isLeader)!;
    expect(leader.lastJoin.members).toHaveLength(4);
    // A heartbeat of the old generation is refused.
    fourth.generationId = 1;
    expect(await fourth.heartbeat()).toBe(ErrorCodes.ILLEGAL_GENERATION);
  });

  it('expels a member that stops heartbeating once its session times out, and rebalances the rest', async () => {
    const cluster = await start();
    const [steady, silent] = [await TestMember.connect(cluster, 'sessions'), await TestMember.connect(cluster, 'sessions', { sessionTimeoutMs: 400 })];
    await formGroup([steady!, silent!]);
    const syncedMs = performance.now();
    expect(steady!.generationId).toBe(silent!.generationId);
    const generation = steady!.generationId;
    await steady!.heartbeatUntil(ErrorCodes.REBALANCE_IN_PROGRESS);
    // Its session started when its SyncGroup was answered, a moment before syncedMs.
    expect(performance.now() - syncedMs).toBeGreaterThanOrEqual(300);
    const rejoined = await steady!.join();
    expect(rejoined).toMatchObject({ errorCode: 0, generationId: generation + 1, leader: steady!.memberId });
    expect(rejoined.members.map((m: Body) => m.memberId)).toEqual([steady!.memberId]);
    expect(await silent!.heartbeat()).toBe(ErrorCodes.UNKNOWN_MEMBER_ID);
  });

  it('drops a member that does not rejoin within the rebalance timeout, though it still heartbeats', async () => {
    const cluster = await start();
    const [active, stuck] = await members(cluster, 'timeouts', 2, { rebalanceTimeoutMs: 500 });
    await formGroup([active!, stuck!]);
    const newcomer = await TestMember.connect(cluster, 'timeouts', { rebalanceTimeoutMs: 500 });
    const startMs = performance.now(); // the rebalance (and its 500 ms timeout) starts after this
    const newcomerJoined = newcomer.join();
    await active!.heartbeatUntil(ErrorCodes.REBALANCE_IN_PROGRESS);
    expect(await stuck!.heartbeat()).toBe(ErrorCodes.REBALANCE_IN_PROGRESS); // told, but it does not rejoin
    const [rejoined, joined] = await Promise.all([active!.join(), newcomerJoined]);
    expect(performance.now() - startMs).toBeGreaterThanOrEqual(490);
    expect([rejoined.generationId, joined.generationId]).toEqual([2, 2]);
    const leader = [active!, newcomer].find((m) => m.isLeader)!;
    expect(leader.lastJoin.members.map((m: Body) => m.memberId).sort()).toEqual([active!.memberId, newcomer.memberId].sort());
    expect(await stuck!.heartbeat()).toBe(ErrorCodes.UNKNOWN_MEMBER_ID);
  });

  it('rebalances at once when a member leaves, and answers members that are not there', async () => {
    const cluster = await start();
    const [stays, goes] = await members(cluster, 'leavers', 2);
    await formGroup([stays!, goes!]);
    const left = await goes!.leave();
    expect(left).toMatchObject({ errorCode: 0, members: [{ memberId: goes!.memberId, errorCode: 0 }] });
    expect(await stays!.heartbeat()).toBe(ErrorCodes.REBALANCE_IN_PROGRESS);
    expect(await stays!.join()).toMatchObject({ errorCode: 0, generationId: 2, leader: stays!.memberId });
    const again = await goes!.leave();
    expect(again.members[0].errorCode).toBe(ErrorCodes.UNKNOWN_MEMBER_ID);
    // LeaveGroup v0-2 carries one member and answers with its error alone.
    const old = await goes!.client.request(ApiKeys.LEAVE_GROUP, { groupId: 'leavers', memberId: 'nobody' }, { version: 1 }) as Body;
    expect(old.errorCode).toBe(ErrorCodes.UNKNOWN_MEMBER_ID);
  });

  it('describes and lists groups with their members and states', async () => {
    const cluster = await start();
    const pair = await members(cluster, 'described', 2);
    await formGroup(pair);
    const admin = await cluster.client();
    const described = await describeGroup(admin, 'described');
    expect(described).toMatchObject({ errorCode: 0, groupId: 'described', groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(described.members.map((m: Body) => m.memberId).sort()).toEqual(pair.map((m) => m.memberId).sort());
    for (const m of described.members as Body[]) {
      expect(m.clientId).toMatch(/^consumer-\d$/);
      expect(decodeData(DataMessages.CONSUMER_PROTOCOL_SUBSCRIPTION, m.memberMetadata).body.topics).toEqual(['orders']);
      expect(assignedPartitions(m.memberAssignment)[0]!.topic).toBe('orders');
    }
    expect(await describeGroup(admin, 'never-was')).toMatchObject({ errorCode: 0, groupState: 'Dead', members: [] });

    // A group with committed offsets only: Empty, no protocol type.
    await admin.request(ApiKeys.CREATE_TOPICS, { topics: [{ name: 'orders', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5_000, validateOnly: false });
    const committed = await admin.request(ApiKeys.OFFSET_COMMIT, { groupId: 'offsets-only', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }] });
    expect((committed as Body).topics[0].partitions[0].errorCode).toBe(0);
    const listed = async (statesFilter: string[]): Promise<Body[]> =>
      ((await admin.request(ApiKeys.LIST_GROUPS, { statesFilter, typesFilter: [] })) as Body).groups;
    expect((await listed([])).map((g) => [g.groupId, g.groupState, g.protocolType, g.groupType]).sort()).toEqual([
      ['described', 'Stable', 'consumer', 'classic'],
      ['offsets-only', 'Empty', '', 'classic'],
    ]);
    expect((await listed(['stable'])).map((g) => g.groupId)).toEqual(['described']);
    expect((await listed(['Empty', 'Dead'])).map((g) => g.groupId)).toEqual(['offsets-only']);
    const v0 = await admin.request(ApiKeys.LIST_GROUPS, {}, { version: 0 }) as Body;
    expect(v0.groups).toHaveLength(2);
  });

  it('answers bad requests with Kafka\'s errors', async () => {
    const cluster = await start(0, { 'group.max.session.timeout.ms': 60_000 });
    const member = await TestMember.connect(cluster, 'strict');
    const join = (overrides: Body) => member.client.request(ApiKeys.JOIN_GROUP, member.joinRequest(overrides)) as Promise<Body>;
    expect((await join({ groupId: '' })).errorCode).toBe(ErrorCodes.INVALID_GROUP_ID);
    expect((await join({ sessionTimeoutMs: 99 })).errorCode).toBe(ErrorCodes.INVALID_SESSION_TIMEOUT);
    expect((await join({ sessionTimeoutMs: 60_001 })).errorCode).toBe(ErrorCodes.INVALID_SESSION_TIMEOUT);
    expect((await join({ memberId: 'made-up' })).errorCode).toBe(ErrorCodes.UNKNOWN_MEMBER_ID);
    expect((await join({ protocolType: '' })).errorCode).toBe(ErrorCodes.INCONSISTENT_GROUP_PROTOCOL);
    await formGroup([member]);
    const stranger = await TestMember.connect(cluster, 'strict', { protocols: ['roundrobin'] });
    expect((await stranger.join()).errorCode).toBe(ErrorCodes.INCONSISTENT_GROUP_PROTOCOL);
    expect((await join({ memberId: '', protocolType: 'connect' })).errorCode).toBe(ErrorCodes.INCONSISTENT_GROUP_PROTOCOL);

    const heartbeat = (body: Body) => member.client.request(ApiKeys.HEARTBEAT, { groupId: 'strict', generationId: member.generationId, memberId: member.memberId, groupInstanceId: null, ...body }) as Promise<Body>;
    expect((await heartbeat({})).errorCode).toBe(ErrorCodes.NONE);
    expect((await heartbeat({ groupId: '' })).errorCode).toBe(ErrorCodes.INVALID_GROUP_ID);
    expect((await heartbeat({ memberId: 'made-up' })).errorCode).toBe(ErrorCodes.UNKNOWN_MEMBER_ID);
    expect((await heartbeat({ groupId: 'no-such-group' })).errorCode).toBe(ErrorCodes.UNKNOWN_MEMBER_ID);
    expect((await heartbeat({ generationId: member.generationId - 1 })).errorCode).toBe(ErrorCodes.ILLEGAL_GENERATION);
    member.generationId -= 1;
    expect((await member.sync()).errorCode).toBe(ErrorCodes.ILLEGAL_GENERATION);
    member.generationId += 1;
    const wrongProtocol = await member.client.request(ApiKeys.SYNC_GROUP, { groupId: 'strict', generationId: member.generationId, memberId: member.memberId, protocolType: 'consumer', protocolName: 'roundrobin', assignments: [] }) as Body;
    expect(wrongProtocol.errorCode).toBe(ErrorCodes.INCONSISTENT_GROUP_PROTOCOL);
    expect((await member.client.request(ApiKeys.LEAVE_GROUP, { groupId: '', members: [] }) as Body).errorCode).toBe(ErrorCodes.INVALID_GROUP_ID);
  });

  it('speaks the old versions too: JoinGroup v0-3 add a member without the id round trip', async () => {
    const cluster = await start(0);
    const member = await TestMember.connect(cluster, 'vintage');
    const joined = await member.join(3);
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' });
    expect(joined.memberId).toMatch(/^test-consumer-[0-9a-f-]+$/);
    expect((await member.sync(new Map(), 3)).errorCode).toBe(0);
    // The leader rejoining a Stable group starts a new generation.
    const v0 = await member.client.request(ApiKeys.JOIN_GROUP, member.joinRequest(), { version: 0 }) as Body;
    expect(v0).toMatchObject({ errorCode: 0, generationId: 2, leader: member.memberId, members: [{ memberId: member.memberId }] });
    member.generationId = 2;
    const synced = await member.sync(new Map([[member.memberId, new Uint8Array([1, 2, 3])]]), 0);
    expect(synced).toMatchObject({ errorCode: 0 });
    expect([...synced.assignment]).toEqual([1, 2, 3]);
    expect(await member.heartbeat(0)).toBe(0);
    const found = await member.client.request(ApiKeys.FIND_COORDINATOR, { key: 'vintage', keyType: 0 }, { version: 0 }) as Body;
    expect(found).toMatchObject({ errorCode: 0, nodeId: 0, host: 'embedded' });
    const described = await member.client.request(ApiKeys.DESCRIBE_GROUPS, { groups: ['vintage'] }, { version: 0 }) as Body;
    expect(described.groups[0]).toMatchObject({ groupState: 'Stable', members: [{ memberId: member.memberId }] });
  });

  it('finds this broker as the coordinator of any group, in batches from v4, and creates __consumer_offsets as an internal topic', async () => {
    const cluster = await start(0, { 'offsets.topic.num.partitions': 7 });
    const client = await cluster.client();
    const v3 = await client.request(ApiKeys.FIND_COORDINATOR, { key: 'a', keyType: 0 }, { version: 3 }) as Body;
    expect(v3).toMatchObject({ errorCode: 0, nodeId: 0, host: 'embedded', port: 0 });
    const v4 = await client.request(ApiKeys.FIND_COORDINATOR, { keyType: 0, coordinatorKeys: ['a', 'b'] }) as Body;
    expect(v4.coordinators).toMatchObject([{ key: 'a', nodeId: 0, errorCode: 0 }, { key: 'b', nodeId: 0, errorCode: 0 }]);
    const txn = await client.request(ApiKeys.FIND_COORDINATOR, { keyType: 1, coordinatorKeys: ['t'] }) as Body;
    expect(txn.coordinators[0]).toMatchObject({ errorCode: ErrorCodes.COORDINATOR_NOT_AVAILABLE, nodeId: -1 });
    const metadata = await client.request(ApiKeys.METADATA, { topics: null, allowAutoTopicCreation: false }) as Body;
    const offsets = (metadata.topics as Body[]).find((t) => t.name === '__consumer_offsets');
    expect(offsets).toMatchObject({ errorCode: 0, isInternal: true });
    expect(offsets!.partitions).toHaveLength(7);
  });

  it('answers a JoinGroup still waiting when the broker shuts down, so that the shutdown does not hang', async () => {
    const cluster = await start(0);
    const first = await TestMember.connect(cluster, 'unloaded');
    await formGroup([first]);
    const second = await TestMember.connect(cluster, 'unloaded');
    const waiting = second.join(); // waits for the first member to rejoin, up to its rebalance timeout
    await first.heartbeatUntil(ErrorCodes.REBALANCE_IN_PROGRESS);
    const closeStartMs = performance.now();
    await cluster.close();
    expect(performance.now() - closeStartMs).toBeLessThan(5_000);
    expect((await waiting).errorCode).toBe(ErrorCodes.NOT_COORDINATOR);
  });
});
