/**
 * GroupApis: the consumer-group requests as Kafka's KafkaApis hands them to its group coordinator:
 * FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
 * DescribeGroups and ListGroups, at every version the codec speaks. It turns each version's body
 * into a GroupCoordinator call and the answer back into that version's response (batched members,
 * keys and groups in the newer versions, one of each in the older). Lives in the broker worker.
 */
import type { Logger } from '../shared/logger.js';
import { ApiKeys, ErrorCodes } from '../shared/protocol/index.js';
import type { GroupCoordinator } from './group-coordinator.js';
import type { GroupMetadataManager, OffsetToStore } from './group-metadata-manager.js';
import type { PartitionOffset } from './group-requests.js';
import type { ReplicaManager } from './replica-manager.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

interface Endpoint {
  nodeId: number;
  host: string;
  port: number;
}

/** The group APIs this broker serves and their lowest versions (the codec's highest are served too). */
export const GROUP_APIS_SERVED: Readonly<Record<number, number>> = {
  [ApiKeys.FIND_COORDINATOR]: 0,
  [ApiKeys.JOIN_GROUP]: 0,
  [ApiKeys.SYNC_GROUP]: 0,
  [ApiKeys.HEARTBEAT]: 0,
  [ApiKeys.LEAVE_GROUP]: 0,
  [ApiKeys.OFFSET_COMMIT]: 0,
  [ApiKeys.OFFSET_FETCH]: 0,
  [ApiKeys.DESCRIBE_GROUPS]: 0,
  [ApiKeys.LIST_GROUPS]: 0,
};

/** FindCoordinator key types. */
const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;
const NO_AUTHORIZED_OPERATIONS = -2147483648;
/**
 * The client address Kafka reports per member (DescribeGroups' clientHost). The embedded transport
 * has no address; a TCP listener will pass the peer's.
 */
export const EMBEDDED_CLIENT_HOST = '/embedded';

export class GroupApis {
  readonly #coordinator: GroupCoordinator;
  readonly #store: GroupMetadataManager;
  readonly #replicas: ReplicaManager;
  readonly #endpoint: () => Endpoint;
  readonly #logger: Logger;

  constructor(coordinator: GroupCoordinator, store: GroupMetadataManager, replicas: ReplicaManager, endpoint: () => Endpoint, logger: Logger) {
    this.#coordinator = coordinator;
    this.#store = store;
    this.#replicas = replicas;
    this.#endpoint = endpoint;
    this.#logger = logger;
  }

  static serves(apiKey: number): boolean {
    return GROUP_APIS_SERVED[apiKey] !== undefined;
  }

  async handle(header: { apiKey: number; apiVersion: number; clientId: string | null }, body: Body, clientHost = EMBEDDED_CLIENT_HOST): Promise<Body> {
    const version = header.apiVersion;
    switch (header.apiKey) {
      case ApiKeys.FIND_COORDINATOR:
        return this.#findCoordinator(version, body);
      case ApiKeys.JOIN_GROUP:
        return this.#joinGroup(version, body, header.clientId ?? '', clientHost);
      case ApiKeys.SYNC_GROUP:
        return this.#syncGroup(version, body);
      case ApiKeys.HEARTBEAT:
        return { throttleTimeMs: 0, errorCode: this.#coordinator.heartbeat(body.groupId, body.memberId, body.generationId) };
      case ApiKeys.LEAVE_GROUP:
        return this.#leaveGroup(version, body);
      case ApiKeys.OFFSET_COMMIT:
        return this.#offsetCommit(body);
      case ApiKeys.OFFSET_FETCH:
        return this.#offsetFetch(version, body);
      case ApiKeys.DESCRIBE_GROUPS:
        return {
          throttleTimeMs: 0,
          groups: (body.groups as string[]).map((groupId) => ({ ...this.#coordinator.describeGroup(groupId), authorizedOperations: NO_AUTHORIZED_OPERATIONS })),
        };
      case ApiKeys.LIST_GROUPS:
        return { throttleTimeMs: 0, ...this.#coordinator.listGroups(body.statesFilter ?? [], body.typesFilter ?? []) };
      default:
        throw new RangeError(`group APIs: API key ${header.apiKey} is not a group API`);
    }
  }

  async #findCoordinator(version: number, body: Body): Promise<Body> {
    const keys: string[] = version >= 4 ? body.coordinatorKeys : [body.key];
    const self = this.#endpoint();
    const coordinators: Body[] = [];
    for (const key of keys) {
      const noNode = { key, nodeId: -1, host: '', port: -1 };
      if (body.keyType === KEY_TYPE_GROUP && !this.#coordinator.isActive) {
        coordinators.push({ ...noNode, errorCode: ErrorCodes.COORDINATOR_NOT_AVAILABLE, errorMessage: 'the group coordinator is shutting down' });
      } else if (body.keyType === KEY_TYPE_GROUP) {
        try {
          // Kafka creates the offsets topic on the first FindCoordinator; here it is ready before the answer.
          await this.#store.ensureTopic();
          coordinators.push({ key, nodeId: self.nodeId, host: self.host, port: self.port, errorCode: ErrorCodes.NONE, errorMessage: null });
        } catch (error) {
          this.#logger.error({ err: error }, 'no group coordinator: the offsets topic is not available');
          coordinators.push({ ...noNode, errorCode: ErrorCodes.COORDINATOR_NOT_AVAILABLE, errorMessage: 'the offsets topic is not available' });
        }
      } else if (body.keyType === KEY_TYPE_TRANSACTION) {
        coordinators.push({ ...noNode, errorCode: ErrorCodes.COORDINATOR_NOT_AVAILABLE, errorMessage: 'this broker has no transaction coordinator' });
      } else {
        coordinators.push({ ...noNode, errorCode: ErrorCodes.INVALID_REQUEST, errorMessage: `unknown coordinator key type ${body.keyType}` });
      }
    }
    if (version >= 4) return { throttleTimeMs: 0, coordinators };
    const { errorCode, errorMessage, nodeId, host, port } = coordinators[0]!;
    return { throttleTimeMs: 0, errorCode, errorMessage, nodeId, host, port };
  }

  async #joinGroup(version: number, body: Body, clientId: string, clientHost: string): Promise<Body> {
    const groupInstanceId: string | null = body.groupInstanceId ?? null;
    const result = await this.#coordinator.joinGroup({
      groupId: body.groupId,
      memberId: body.memberId,
      groupInstanceId,
      requireKnownMemberId: version >= 4 && groupInstanceId === null,
      clientId,
      clientHost,
      // v0 has no rebalance timeout: the session timeout serves as both.
      rebalanceTimeoutMs: version === 0 ? body.sessionTimeoutMs : body.rebalanceTimeoutMs,
      sessionTimeoutMs: body.sessionTimeoutMs,
      protocolType: body.protocolType,
      // Copied out of the request frame: the group keeps them.
      protocols: (body.protocols as Body[]).map((p) => ({ name: p.name as string, metadata: Uint8Array.from(p.metadata as Uint8Array) })),
      reason: body.reason ?? null,
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      generationId: result.generationId,
      protocolType: result.protocolType,
      // Nullable from v7; before, "no protocol" is the empty string.
      protocolName: version >= 7 ? result.protocolName : (result.protocolName ?? ''),
      leader: result.leaderId,
      skipAssignment: false,
      memberId: result.memberId,
      members: result.members,
    };
  }

  async #syncGroup(version: number, body: Body): Promise<Body> {
    const protocolType: string | null = body.protocolType ?? null;
    const protocolName: string | null = body.protocolName ?? null;
    // From v5 the request must name the protocol it assigned for (KafkaApis checks it).
    if (version >= 5 && (protocolType === null || protocolName === null)) {
      return { throttleTimeMs: 0, errorCode: ErrorCodes.INCONSISTENT_GROUP_PROTOCOL, protocolType: null, protocolName: null, assignment: new Uint8Array(0) };
    }
    const result = await this.#coordinator.syncGroup({
      groupId: body.groupId,
      generationId: body.generationId,
      memberId: body.memberId,
      protocolType,
      protocolName,
      assignments: new Map((body.assignments as Body[]).map((a) => [a.memberId as string, Uint8Array.from(a.assignment as Uint8Array)])),
    });
    return { throttleTimeMs: 0, ...result };
  }

  #leaveGroup(version: number, body: Body): Body {
    const leaving = version >= 3
      ? (body.members as Body[]).map((m) => ({ memberId: m.memberId as string, groupInstanceId: (m.groupInstanceId ?? null) as string | null }))
      : [{ memberId: body.memberId as string, groupInstanceId: null }];
    const result = this.#coordinator.leaveGroup(body.groupId, leaving);
    if (version >= 3) return { throttleTimeMs: 0, ...result };
    // One member, one error: the group's, or else the member's.
    return { throttleTimeMs: 0, errorCode: result.errorCode !== ErrorCodes.NONE ? result.errorCode : (result.members[0]?.errorCode ?? ErrorCodes.NONE) };
  }

  async #offsetCommit(body: Body): Promise<Body> {
    const nowMs = Date.now();
    // KafkaApis' rules: commitTimestamp (v1) when given, else now; an expiry only from a v2-4 retention time.
    const retentionTimeMs = Number(body.retentionTimeMs ?? -1);
    const toCommit: OffsetToStore[] = [];
    const waiting: Body[] = []; // the response partitions that the coordinator answers, in toCommit's order
    const topics = (body.topics as Body[]).map((t) => ({
      name: t.name,
      partitions: (t.partitions as Body[]).map((p) => {
        const response: Body = { partitionIndex: p.partitionIndex, errorCode: ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION };
        if (p.partitionIndex >= 0 && p.partitionIndex < (this.#replicas.partitionCount(t.name) ?? 0)) {
          toCommit.push({
            topic: t.name,
            partition: p.partitionIndex,
            offset: Number(p.committedOffset),
            leaderEpoch: p.committedLeaderEpoch ?? -1,
            metadata: p.committedMetadata ?? '',
            commitTimestampMs: Number(p.commitTimestamp ?? -1) === -1 ? nowMs : Number(p.commitTimestamp),
            expireTimestampMs: retentionTimeMs === -1 ? null : nowMs + retentionTimeMs,
          });
          waiting.push(response);
        }
        return response;
      }),
    }));
    if (toCommit.length > 0) {
      const errors = await this.#coordinator.commitOffsets({
        groupId: body.groupId,
        generationId: body.generationIdOrMemberEpoch ?? -1,
        memberId: body.memberId ?? '',
        groupInstanceId: body.groupInstanceId ?? null,
        offsets: toCommit,
      });
      waiting.forEach((response, i) => { response.errorCode = errors[i]; });
    }
    return { throttleTimeMs: 0, topics };
  }

  #offsetFetch(version: number, body: Body): Body {
    if (version >= 8) {
      return {
        throttleTimeMs: 0,
        groups: (body.groups as Body[]).map((g) => {
          const answer = this.#coordinator.fetchOffsets(g.groupId, g.topics);
          return { groupId: g.groupId, errorCode: answer.errorCode, topics: answer.topics.map(wireTopic) };
        }),
      };
    }
    const topics: { name: string; partitionIndexes: number[] }[] | null = body.topics;
    const answer = this.#coordinator.fetchOffsets(body.groupId, topics);
    if (answer.errorCode !== ErrorCodes.NONE && version < 2) {
      // Before v2 there is no group-level error: each partition asked for carries it.
      const failed = (topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: answer.errorCode })) }));
      return { throttleTimeMs: 0, errorCode: answer.errorCode, topics: failed.map(wireTopic) };
    }
    return { throttleTimeMs: 0, errorCode: answer.errorCode, topics: answer.topics.map(wireTopic) };
  }
}

function wireTopic(topic: { name: string; partitions: PartitionOffset[] }): Body {
  return { name: topic.name, partitions: topic.partitions.map((p) => ({ ...p, committedOffset: BigInt(p.committedOffset) })) };
}
