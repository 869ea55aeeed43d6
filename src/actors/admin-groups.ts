/**
 * The Admin's consumer-group calls as Kafka requests: ListGroups to every broker; DescribeGroups
 * and OffsetFetch to each group's coordinator, found with FindCoordinator (batched from v4, one
 * key per request before), as Kafka's admin client does. A "consumer" group's member assignments
 * are decoded with Kafka's ConsumerProtocol (consumer-protocol.ts). Each function is one attempt of
 * its call (admin-calls.ts retries it). Main thread.
 */
import type { TopicPartition } from '../shared/assignors.js';
import { ResourceError } from '../shared/errors.js';
import { ApiKeys, ErrorCodes, kafkaError } from '../shared/protocol/index.js';
import type { Attempt, Outcomes } from './admin-calls.js';
import { metadata } from './admin-topics.js';
import { decodeAssignment } from './consumer-protocol.js';

/** A decoded body, indexed freely: the generic codec's shapes follow the schemas, not TS types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

export interface ConsumerGroupListing {
  groupId: string;
  /** 'consumer' for groups of Kafka consumers; '' for a group that only commits offsets. */
  protocolType: string;
  /** Empty, Stable, PreparingRebalance, ... ('' when the broker does not say, before ListGroups v4). */
  state: string;
  /** 'classic' or 'consumer' ('' before ListGroups v5). */
  type: string;
  isSimpleConsumerGroup: boolean;
}

export interface MemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  /** The member's address as the broker saw it ('/127.0.0.1'). */
  host: string;
  /** The partitions the group's leader gave this member (none while the group rebalances). */
  assignment: TopicPartition[];
}

export interface ConsumerGroupDescription {
  groupId: string;
  /** Kafka's group state: Empty, PreparingRebalance, CompletingRebalance, Stable or Dead (no such group). */
  state: string;
  protocolType: string;
  /** The assignor the group chose (range, roundrobin, cooperative-sticky), '' while rebalancing. */
  protocol: string;
  isSimpleConsumerGroup: boolean;
  /** The broker id of the group's coordinator. */
  coordinator: number;
  members: MemberDescription[];
}

export interface GroupOffset extends TopicPartition {
  offset: number;
  leaderEpoch: number;
  metadata: string;
}

const KEY_TYPE_GROUP = 0;
const CONSUMER_PROTOCOL_TYPE = 'consumer';
/** Look for the coordinator again and retry (KafkaAdminClient's CoordinatorStrategy). */
const COORDINATOR_RETRIABLE = new Set<number>([ErrorCodes.COORDINATOR_NOT_AVAILABLE, ErrorCodes.COORDINATOR_LOAD_IN_PROGRESS, ErrorCodes.NOT_COORDINATOR]);
const OFFSET_FETCH_RETRIABLE = new Set<number>([...COORDINATOR_RETRIABLE, ErrorCodes.UNSTABLE_OFFSET_COMMIT]);

/** ListGroups to every broker the cluster's metadata names; consumer groups only, as Kafka lists them. */
export async function listConsumerGroups(attempt: Attempt): Promise<ConsumerGroupListing[]> {
  const { brokers } = await metadata(attempt, []);
  const answers = await Promise.all(brokers.map(async ({ nodeId }) => {
    const { response } = await attempt.send(nodeId, ApiKeys.LIST_GROUPS, () => ({ statesFilter: [], typesFilter: [] }));
    if (response.errorCode !== ErrorCodes.NONE) throw kafkaError(response.errorCode, `ListGroups on broker ${nodeId}: ${kafkaError(response.errorCode).message}`);
    return response.groups as Body[];
  }));
  const groups = new Map<string, ConsumerGroupListing>();
  for (const g of answers.flat()) {
    if (g.protocolType !== CONSUMER_PROTOCOL_TYPE && g.protocolType !== '') continue;
    groups.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType, state: g.groupState ?? '', type: g.groupType ?? '', isSimpleConsumerGroup: g.protocolType === '' });
  }
  return [...groups.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

/** Each group's coordinator, grouped by node; a group whose lookup failed is settled in `outcomes`. */
async function findCoordinators(attempt: Attempt, outcomes: Outcomes<unknown>, groupIds: readonly string[]): Promise<Map<number, string[]>> {
  const first = await attempt.send(null, ApiKeys.FIND_COORDINATOR, (version) => (version >= 4
    ? { keyType: KEY_TYPE_GROUP, coordinatorKeys: groupIds }
    : { keyType: KEY_TYPE_GROUP, key: groupIds[0] }));
  let answers: Body[];
  if (first.version >= 4) {
    answers = first.response.coordinators;
  } else {
    // One key per request before v4.
    const rest = await Promise.all(groupIds.slice(1).map((key) => attempt.send(null, ApiKeys.FIND_COORDINATOR, () => ({ keyType: KEY_TYPE_GROUP, key }))));
    answers = [first, ...rest].map((r, i) => ({ ...r.response, key: groupIds[i] }));
  }
  const byNode = new Map<number, string[]>();
  for (const a of answers) {
    if (a.errorCode !== ErrorCodes.NONE) outcomes.settleError(a.key, 'group', a.errorCode, a.errorMessage, COORDINATOR_RETRIABLE);
    else byNode.set(a.nodeId, [...(byNode.get(a.nodeId) ?? []), a.key]);
  }
  return byNode;
}

export async function describeConsumerGroups(attempt: Attempt, outcomes: Outcomes<ConsumerGroupDescription>): Promise<void> {
  const coordinators = await findCoordinators(attempt, outcomes, outcomes.startAttempt());
  const sent = await Promise.allSettled([...coordinators].map(async ([coordinator, groupIds]) => {
    const { response } = await attempt.send(coordinator, ApiKeys.DESCRIBE_GROUPS, () => ({ groups: groupIds, includeAuthorizedOperations: false }));
    for (const g of response.groups as Body[]) {
      if (g.errorCode !== ErrorCodes.NONE) {
        outcomes.settleError(g.groupId, 'group', g.errorCode, g.errorMessage, COORDINATOR_RETRIABLE);
        continue;
      }
      const consumerProtocol = g.protocolType === CONSUMER_PROTOCOL_TYPE;
      outcomes.succeed(g.groupId, {
        groupId: g.groupId,
        state: g.groupState,
        protocolType: g.protocolType,
        protocol: g.protocolData,
        isSimpleConsumerGroup: g.protocolType === '',
        coordinator,
        members: (g.members as Body[]).map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId ?? null,
          clientId: m.clientId,
          host: m.clientHost,
          assignment: consumerProtocol ? decodeAssignment(m.memberAssignment as Uint8Array) : [],
        })),
      });
    }
  }));
  const failed = sent.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  outcomes.endAttempt('group');
}

/** The group's committed offsets (of `partitions`, or all); partitions with none are left out. */
export async function listConsumerGroupOffsets(attempt: Attempt, outcomes: Outcomes<GroupOffset[]>, partitions: readonly TopicPartition[] | null): Promise<void> {
  const [groupId] = outcomes.startAttempt();
  if (groupId === undefined) return;
  const coordinators = await findCoordinators(attempt, outcomes, [groupId]);
  const [coordinator] = coordinators.keys();
  if (coordinator === undefined) {
    outcomes.endAttempt('group');
    return;
  }
  const topics = partitions === null ? null : [...new Set(partitions.map((tp) => tp.topic))].map((name) => ({
    name, partitionIndexes: partitions.filter((tp) => tp.topic === name).map((tp) => tp.partition),
  }));
  const { version, response } = await attempt.send(coordinator, ApiKeys.OFFSET_FETCH, (v) => (v >= 8
    ? { groups: [{ groupId, memberId: null, memberEpoch: -1, topics }], requireStable: false }
    : { groupId, topics, requireStable: false }));
  const answer: Body = version >= 8 ? (response.groups as Body[]).find((g) => g.groupId === groupId) ?? { errorCode: ErrorCodes.UNKNOWN_SERVER_ERROR, topics: [] } : response;
  if (answer.errorCode !== ErrorCodes.NONE) {
    outcomes.settleError(groupId, 'group', answer.errorCode, null, OFFSET_FETCH_RETRIABLE);
    outcomes.endAttempt('group');
    return;
  }
  const offsets: GroupOffset[] = [];
  for (const t of answer.topics as Body[]) {
    for (const p of t.partitions as Body[]) {
      if (p.errorCode === ErrorCodes.UNSTABLE_OFFSET_COMMIT) {
        outcomes.settleError(groupId, 'group', p.errorCode, null, OFFSET_FETCH_RETRIABLE);
        outcomes.endAttempt('group');
        return;
      }
      if (p.errorCode !== ErrorCodes.NONE) {
        outcomes.fail(groupId, new ResourceError('partition', `${t.name}-${p.partitionIndex}`, kafkaError(p.errorCode, `group '${groupId}': ${kafkaError(p.errorCode).message}`)));
        return;
      }
      if (Number(p.committedOffset) < 0) continue; // nothing committed
      offsets.push({ topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset), leaderEpoch: p.committedLeaderEpoch, metadata: p.metadata ?? '' });
    }
  }
  if (partitions !== null) {
    const order = new Map(partitions.map((tp, i) => [`${tp.topic}-${tp.partition}`, i]));
    offsets.sort((a, b) => order.get(`${a.topic}-${a.partition}`)! - order.get(`${b.topic}-${b.partition}`)!);
  } else {
    offsets.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }
  outcomes.succeed(groupId, offsets);
}
