/**
 * Test members of a consumer group: each one a KafkaClient on its own connection (a JoinGroup
 * waits there until the rebalance completes, as on a real socket), speaking the classic group
 * protocol with consumer-protocol metadata and assignments, as a Kafka consumer would.
 */
import type { Cluster } from '../../src/actors/cluster.js';
import type { KafkaClient } from '../../src/actors/kafka-client.js';
import { ApiKeys, DataMessages, decodeData, encodeData, ErrorCodes } from '../../src/shared/protocol/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = Record<string, any>;

export interface MemberOptions {
  topics?: string[];
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  protocols?: string[];
  clientId?: string;
}

export const subscription = (topics: string[]): Uint8Array =>
  encodeData(DataMessages.CONSUMER_PROTOCOL_SUBSCRIPTION, 1, { topics, userData: null, ownedPartitions: [] });

export const assignment = (topic: string, partitions: number[]): Uint8Array =>
  encodeData(DataMessages.CONSUMER_PROTOCOL_ASSIGNMENT, 0, { assignedPartitions: [{ topic, partitions }], userData: null });

export const assignedPartitions = (bytes: Uint8Array): Body[] =>
  decodeData(DataMessages.CONSUMER_PROTOCOL_ASSIGNMENT, bytes).body.assignedPartitions as Body[];

export class TestMember {
  readonly client: KafkaClient;
  readonly groupId: string;
  readonly options: Required<MemberOptions>;
  memberId = '';
  generationId = -1;
  lastJoin: Body = {};

  constructor(client: KafkaClient, groupId: string, options: MemberOptions = {}) {
    this.client = client;
    this.groupId = groupId;
    this.options = {
      topics: options.topics ?? ['orders'],
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 8_000,
      protocols: options.protocols ?? ['range'],
      clientId: options.clientId ?? 'test-consumer',
    };
  }

  static async connect(cluster: Cluster, groupId: string, options: MemberOptions = {}): Promise<TestMember> {
    return new TestMember(await cluster.client(0, { clientId: options.clientId ?? 'test-consumer', requestTimeoutMs: 20_000 }), groupId, options);
  }

  joinRequest(overrides: Body = {}): Body {
    return {
      groupId: this.groupId,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: this.options.protocols.map((name) => ({ name, metadata: subscription(this.options.topics) })),
      reason: null,
      ...overrides,
    };
  }

  /** JoinGroup until the answer is final: a new member gets its id first (MEMBER_ID_REQUIRED) and rejoins with it. */
  async join(version?: number): Promise<Body> {
    let answer = await this.client.request(ApiKeys.JOIN_GROUP, this.joinRequest(), { version }) as Body;
    if (answer.errorCode === ErrorCodes.MEMBER_ID_REQUIRED) {
      this.memberId = answer.memberId;
      answer = await this.client.request(ApiKeys.JOIN_GROUP, this.joinRequest(), { version }) as Body;
    }
    if (answer.errorCode === ErrorCodes.NONE) {
      this.memberId = answer.memberId;
      this.generationId = answer.generationId;
    }
    this.lastJoin = answer;
    return answer;
  }

  get isLeader(): boolean {
    return this.lastJoin.leader === this.memberId;
  }

  /** SyncGroup; the leader gives out `assignments` (member id → consumer-protocol bytes). */
  sync(assignments: Map<string, Uint8Array> = new Map(), version?: number): Promise<Body> {
    return this.client.request(ApiKeys.SYNC_GROUP, {
      groupId: this.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: this.lastJoin.protocolName,
      assignments: [...assignments].map(([memberId, bytes]) => ({ memberId, assignment: bytes })),
    }, { version }) as Promise<Body>;
  }

  async heartbeat(version?: number): Promise<number> {
    const answer = await this.client.request(ApiKeys.HEARTBEAT, { groupId: this.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null }, { version }) as Body;
    return answer.errorCode;
  }

  leave(): Promise<Body> {
    return this.client.request(ApiKeys.LEAVE_GROUP, { groupId: this.groupId, members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'test leaves' }] }) as Promise<Body>;
  }

  /** Heartbeats every 20 ms until the answer is `errorCode`, at most `withinMs`; returns the time waited. */
  async heartbeatUntil(errorCode: number, withinMs = 8_000): Promise<number> {
    const startMs = performance.now();
    for (;;) {
      const answer = await this.heartbeat();
      if (answer === errorCode) return performance.now() - startMs;
      if (performance.now() - startMs > withinMs) throw new Error(`heartbeat answered ${answer}, not ${errorCode}, for ${withinMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Joins everyone at once, then syncs: the leader gives each member one partition, in member order. */
export async function formGroup(members: readonly TestMember[], topic = 'orders'): Promise<{ joins: Body[]; syncs: Body[] }> {
  const joins = await Promise.all(members.map((m) => m.join()));
  const leader = members.find((m) => m.isLeader);
  if (leader === undefined) throw new Error(`no leader among ${joins.map((j) => `${j.errorCode}/${j.memberId}`).join(', ')}`);
  const assignments = new Map((leader.lastJoin.members as Body[]).map((m, i) => [m.memberId as string, assignment(topic, [i])]));
  const syncs = await Promise.all(members.map((m) => m.sync(m === leader ? assignments : new Map())));
  return { joins, syncs };
}

export async function describeGroup(client: KafkaClient, groupId: string): Promise<Body> {
  return ((await client.request(ApiKeys.DESCRIBE_GROUPS, { groups: [groupId], includeAuthorizedOperations: false })) as Body).groups[0];
}
