/**
 * Membership: one consumer's place in its group, as Kafka's AbstractCoordinator and its heartbeat
 * thread run it, on the heartbeat worker, so that a main thread busy for longer than
 * session.timeout.ms keeps its partitions (KafkaJS #1052/#1083/#1396).
 *
 * - join(): FindCoordinator, then JoinGroup/SyncGroup on a connection of their own (a JoinGroup
 *   holds its connection's answers until the rebalance ends) until the member has its assignment;
 *   the leader runs the group's assignor over every member's subscription.
 * - Heartbeats every heartbeat.interval.ms on the coordinator connection while the member holds an
 *   assignment; REBALANCE_IN_PROGRESS asks the main thread to rejoin, UNKNOWN_MEMBER_ID /
 *   ILLEGAL_GENERATION / FENCED_INSTANCE_ID report the membership lost, coordinator errors send it
 *   looking for the coordinator again.
 * - max.poll.interval.ms: when the main thread has not polled for that long (the poll clock in the
 *   shared state), the member leaves the group, as Kafka's consumer does, and reports it lost.
 * - Commits and committed-offset lookups for the main thread, on the coordinator connection.
 * - With a pattern, or as the leader, metadata every metadata.max.age.ms: new matching topics or
 *   new partitions ask for a rejoin.
 *
 * Lives on the heartbeat worker's event loop; not thread-safe.
 */
import { exponentialBackoffMs, withJitter } from '../shared/backoff.js';
import { assignorFor, type MemberSubscription, type TopicPartition } from '../shared/assignors.js';
import type { AssignorName } from '../shared/consumer-config.js';
import { IllegalStateError, KafkaApiError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { ApiKeys, ErrorCodes, kafkaError } from '../shared/protocol/index.js';
import { BrokerClients, requestMetadata, type Connect } from './broker-clients.js';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, type CommittedOffset, type GroupEvent, type JoinOutcome, type OffsetToCommit, type SubscriptionSpec } from './consumer-protocol.js';
import type { KafkaClient } from './kafka-client.js';

/** A decoded body, indexed freely: the generic codec's shapes follow the schemas, not TS types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

export interface MembershipOptions {
  groupId: string;
  clientId: string;
  sessionTimeoutMs: number;
  /** max.poll.interval.ms: also the rebalance timeout, as in Kafka. */
  maxPollIntervalMs: number;
  heartbeatIntervalMs: number;
  requestTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  assignors: AssignorName[];
  allowAutoCreateTopics: boolean;
  excludeInternalTopics: boolean;
  metadataMaxAgeMs: number;
}

/** Milliseconds since the main thread last polled. */
export type PollClock = () => number;

const KEY_TYPE_GROUP = 0;
/** Kafka's JoinGroup request timeout: the rebalance timeout plus this. */
const JOIN_EXTRA_TIMEOUT_MS = 5_000;
const COORDINATOR_ERRORS = new Set<number>([ErrorCodes.NOT_COORDINATOR, ErrorCodes.COORDINATOR_NOT_AVAILABLE]);
const RETRIABLE_JOIN_ERRORS = new Set<number>([...COORDINATOR_ERRORS, ErrorCodes.COORDINATOR_LOAD_IN_PROGRESS, ErrorCodes.REBALANCE_IN_PROGRESS]);

interface Coordinator {
  nodeId: number;
  client: KafkaClient;
  /** For JoinGroup and SyncGroup only. */
  joinClient: KafkaClient | null;
}

export class Membership {
  readonly #options: MembershipOptions;
  readonly #clients: BrokerClients;
  readonly #pollClock: PollClock;
  readonly #emit: (event: GroupEvent) => void;
  readonly #logger: Logger;
  #coordinator: Promise<Coordinator> | null = null;
  memberId = '';
  generationId = -1;
  #protocol: string | null = null;
  /** Holds an assignment: heartbeats run. */
  #stable = false;
  #joining = false;
  /** Bumped by leave() and close(): a join under way from before gives up. */
  #era = 0;
  #rejoinAsked = false;
  #subscription: SubscriptionSpec = { topics: [] };
  #joinedTopics: string[] = [];
  /** Partition counts the leader assigned with. */
  #assignedCounts: Map<string, number> | null = null;
  #lastHeartbeatMs = 0;
  #lastMetadataMs = 0;
  #heartbeatInFlight = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: MembershipOptions, connect: Connect, pollClock: PollClock, emit: (event: GroupEvent) => void, logger: Logger) {
    this.#options = options;
    this.#clients = new BrokerClients(connect);
    this.#pollClock = pollClock;
    this.#emit = emit;
    this.#logger = logger;
  }

  async join(subscription: SubscriptionSpec, owned: TopicPartition[]): Promise<JoinOutcome> {
    if (this.#joining) throw new IllegalStateError('a join is already under way');
    this.#joining = true;
    this.#stable = false;
    this.#subscription = subscription;
    const era = this.#era;
    let attempts = 0;
    try {
      for (;;) {
        if (this.#closed || era !== this.#era) throw new IllegalStateError('the member left the group while joining');
        try {
          const outcome = await this.#joinOnce(owned);
          if (outcome !== null && era !== this.#era) {
            // Left while the join was answered: the group must not keep waiting for this member.
            void this.leave('the consumer left while joining');
            throw new IllegalStateError('the member left the group while joining');
          }
          if (outcome !== null) {
            this.#becomeStable();
            return outcome;
          }
          attempts = 0;
        } catch (error) {
          // Kafka's fatal join errors (bad session timeout, no common assignor, ...) and our own end the join.
          if (error instanceof KafkaApiError && !RETRIABLE_JOIN_ERRORS.has(error.errorCode)) throw error;
          if (error instanceof IllegalStateError) throw error;
          this.#dropCoordinator();
          if (era === this.#era) this.#logger.info({ err: error }, 'join failed; retrying');
          await sleep(this.#backoffMs(++attempts));
        }
      }
    } finally {
      this.#joining = false;
    }
  }

  async commit(offsets: OffsetToCommit[], generationId: number, memberId: string): Promise<number[]> {
    const byTopic = new Map<string, Body[]>();
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? [];
      list.push({ partitionIndex: o.partition, committedOffset: BigInt(o.offset), committedLeaderEpoch: o.leaderEpoch, commitTimestamp: -1n, committedMetadata: o.metadata });
      byTopic.set(o.topic, list);
    }
    const answer = await this.#coordinatorRequest(ApiKeys.OFFSET_COMMIT, {
      groupId: this.#options.groupId, generationIdOrMemberEpoch: generationId, memberId, groupInstanceId: null, retentionTimeMs: -1n,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    });
    const codes = new Map<string, number>();
    for (const t of answer.topics as Body[]) for (const p of t.partitions as Body[]) codes.set(`${t.name}\u0000${p.partitionIndex}`, p.errorCode);
    const result = offsets.map((o) => codes.get(`${o.topic}\u0000${o.partition}`) ?? ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    if (result.some((code) => COORDINATOR_ERRORS.has(code))) this.#dropCoordinator();
    return result;
  }

  async committed(partitions: TopicPartition[]): Promise<CommittedOffset[]> {
    const byTopic = new Map<string, number[]>();
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    const topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
    const answer = await this.#coordinatorRequest(ApiKeys.OFFSET_FETCH, {
      groupId: this.#options.groupId, topics, requireStable: false,
      groups: [{ groupId: this.#options.groupId, memberId: null, memberEpoch: -1, topics }],
    });
    const group: Body = answer.groups?.[0] ?? answer;
    const groupError = (group.errorCode ?? ErrorCodes.NONE) as number;
    if (groupError !== ErrorCodes.NONE) {
      if (COORDINATOR_ERRORS.has(groupError)) this.#dropCoordinator();
      throw kafkaError(groupError);
    }
    const found = new Map<string, Body>();
    for (const t of group.topics as Body[]) for (const p of t.partitions as Body[]) found.set(`${t.name}\u0000${p.partitionIndex}`, p);
    return partitions.map(({ topic, partition }) => {
      const p = found.get(`${topic}\u0000${partition}`);
      if (p !== undefined && p.errorCode !== ErrorCodes.NONE) throw kafkaError(p.errorCode as number);
      return { topic, partition, offset: p === undefined ? -1 : Number(p.committedOffset), leaderEpoch: p?.committedLeaderEpoch ?? -1, metadata: p?.metadata ?? '' };
    });
  }

  /** LeaveGroup (best effort), then out of the group: no heartbeats, a new member id next time. */
  async leave(reason: string): Promise<void> {
    this.#era++;
    const memberId = this.memberId;
    this.#reset(true);
    if (memberId === '') return;
    // Twice: a heartbeat failing meanwhile may have closed the connection under the first try.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#coordinatorRequest(ApiKeys.LEAVE_GROUP, {
          groupId: this.#options.groupId, memberId, members: [{ memberId, groupInstanceId: null, reason }],
        });
        this.#logger.info({ memberId, reason }, 'left the group');
        return;
      } catch (error) {
        if (attempt < 2 && !this.#closed) continue;
        this.#logger.warn({ err: error, memberId }, 'LeaveGroup failed; the session timeout will remove the member');
        return;
      }
    }
  }

  close(): void {
    this.#closed = true;
    this.#era++;
    clearTimeout(this.#timer);
    this.#dropCoordinator();
    this.#clients.closeAll();
  }

  // ---- joining ----

  /** One JoinGroup (and SyncGroup): the outcome, or null to join again at once. */
  async #joinOnce(owned: TopicPartition[]): Promise<JoinOutcome | null> {
    const coordinator = await this.#ensureCoordinator();
    const joinClient = coordinator.joinClient ??= await this.#clients.dedicated(coordinator.nodeId);
    const topics = await this.#resolveSubscription();
    const metadata = encodeSubscription({ topics, ownedPartitions: owned, generationId: this.generationId });
    const join = await joinClient.request(ApiKeys.JOIN_GROUP, {
      groupId: this.#options.groupId, sessionTimeoutMs: this.#options.sessionTimeoutMs, rebalanceTimeoutMs: this.#options.maxPollIntervalMs,
      memberId: this.memberId, groupInstanceId: null, protocolType: 'consumer',
      protocols: this.#options.assignors.map((name) => ({ name, metadata })), reason: null,
    }, { timeoutMs: this.#options.maxPollIntervalMs + JOIN_EXTRA_TIMEOUT_MS }) as Body;
    const code = join.errorCode as number;
    if (code === ErrorCodes.MEMBER_ID_REQUIRED) {
      this.memberId = join.memberId;
      return null;
    }
    if (code === ErrorCodes.UNKNOWN_MEMBER_ID || code === ErrorCodes.ILLEGAL_GENERATION) {
      this.#reset(code === ErrorCodes.UNKNOWN_MEMBER_ID);
      return null;
    }
    if (code !== ErrorCodes.NONE) throw kafkaError(code);
    this.memberId = join.memberId;
    this.generationId = join.generationId;
    this.#protocol = join.protocolName;
    const assignments = join.leader === this.memberId ? await this.#assign(join.protocolName, join.members as Body[]) : new Map<string, Uint8Array>();
    const sync = await joinClient.request(ApiKeys.SYNC_GROUP, {
      groupId: this.#options.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null,
      protocolType: 'consumer', protocolName: this.#protocol,
      assignments: [...assignments].map(([memberId, assignment]) => ({ memberId, assignment })),
    }, { timeoutMs: this.#options.maxPollIntervalMs + JOIN_EXTRA_TIMEOUT_MS }) as Body;
    const syncCode = sync.errorCode as number;
    if (syncCode === ErrorCodes.UNKNOWN_MEMBER_ID || syncCode === ErrorCodes.ILLEGAL_GENERATION) {
      this.#reset(syncCode === ErrorCodes.UNKNOWN_MEMBER_ID);
      return null;
    }
    if (syncCode === ErrorCodes.REBALANCE_IN_PROGRESS) return null;
    if (syncCode !== ErrorCodes.NONE) throw kafkaError(syncCode);
    const assigned = decodeAssignment(sync.assignment as Uint8Array);
    this.#joinedTopics = topics;
    this.#logger.info({ memberId: this.memberId, generationId: this.generationId, protocol: this.#protocol, assigned: assigned.length }, 'joined the group');
    return { generationId: this.generationId, memberId: this.memberId, protocol: this.#protocol!, assigned, topics };
  }

  /** The leader's part: every member's assignment, by the assignor the group chose. */
  async #assign(protocol: string, members: Body[]): Promise<Map<string, Uint8Array>> {
    const assignor = assignorFor(protocol);
    if (assignor === undefined) throw new IllegalStateError(`the group chose assignor '${protocol}', which this consumer does not have`);
    const subscriptions: MemberSubscription[] = members.map((m) => ({ memberId: m.memberId as string, ...decodeSubscription(m.metadata as Uint8Array) }));
    const counts = await this.#partitionCounts([...new Set(subscriptions.flatMap((s) => s.topics))]);
    this.#assignedCounts = counts;
    const assignment = assignor.assign(counts, subscriptions);
    return new Map([...assignment].map(([memberId, partitions]) => [memberId, encodeAssignment(partitions)]));
  }

  async #partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const { client } = await this.#clients.any();
    const metadata = await requestMetadata(client, topics, this.#options.allowAutoCreateTopics, this.#options.requestTimeoutMs);
    const counts = new Map<string, number>();
    for (const [topic, info] of metadata) if (info.errorCode === ErrorCodes.NONE) counts.set(topic, info.leaders.length);
    return counts;
  }

  async #resolveSubscription(): Promise<string[]> {
    const subscription = this.#subscription;
    if ('topics' in subscription) return [...subscription.topics].sort();
    const pattern = new RegExp(subscription.pattern.source, subscription.pattern.flags.replace(/[gy]/g, ''));
    const { client } = await this.#clients.any();
    const metadata = await requestMetadata(client, null, false, this.#options.requestTimeoutMs);
    return [...metadata].filter(([name, info]) => pattern.test(name) && !(info.isInternal && this.#options.excludeInternalTopics)).map(([name]) => name).sort();
  }

  // ---- while stable ----

  #becomeStable(): void {
    this.#stable = true;
    this.#rejoinAsked = false;
    this.#lastHeartbeatMs = Date.now();
    this.#lastMetadataMs = Date.now();
    this.#schedule();
  }

  /** Wakes at the next heartbeat, the poll deadline or the metadata check, whichever comes first. */
  #schedule(): void {
    clearTimeout(this.#timer);
    if (!this.#stable || this.#closed) return;
    const now = Date.now();
    const heartbeatInMs = this.#lastHeartbeatMs + this.#options.heartbeatIntervalMs - now;
    const pollDeadlineInMs = this.#options.maxPollIntervalMs - this.#pollClock();
    const metadataInMs = this.#lastMetadataMs + this.#options.metadataMaxAgeMs - now;
    const delayMs = Math.max(0, Math.min(heartbeatInMs, pollDeadlineInMs + 1, metadataInMs));
    this.#timer = setTimeout(() => this.#tick(), delayMs);
  }

  #tick(): void {
    if (!this.#stable || this.#closed) return;
    const sincePollMs = this.#pollClock();
    if (sincePollMs > this.#options.maxPollIntervalMs) {
      this.#logger.warn({ memberId: this.memberId, sincePollMs, maxPollIntervalMs: this.#options.maxPollIntervalMs },
        'poll() was not called within max.poll.interval.ms; leaving the group (the next poll rejoins)');
      void this.leave('the consumer poll timeout has expired').then(() => this.#emit({ type: 'lost', reason: `poll() was not called for ${sincePollMs} ms, more than max.poll.interval.ms (${this.#options.maxPollIntervalMs})` }));
      return;
    }
    const now = Date.now();
    if (now - this.#lastHeartbeatMs >= this.#options.heartbeatIntervalMs && !this.#heartbeatInFlight) void this.#heartbeat();
    if (now - this.#lastMetadataMs >= this.#options.metadataMaxAgeMs) {
      this.#lastMetadataMs = now;
      void this.#checkMetadata();
    }
    this.#schedule();
  }

  async #heartbeat(): Promise<void> {
    this.#heartbeatInFlight = true;
    this.#lastHeartbeatMs = Date.now();
    const generationId = this.generationId;
    let code: number;
    try {
      const answer = await this.#coordinatorRequest(ApiKeys.HEARTBEAT, { groupId: this.#options.groupId, generationId, memberId: this.memberId, groupInstanceId: null });
      code = answer.errorCode as number;
    } catch (error) {
      this.#logger.warn({ err: error }, 'heartbeat failed; finding the coordinator again');
      this.#dropCoordinator();
      return;
    } finally {
      this.#heartbeatInFlight = false;
    }
    // A join, a leave or another generation came meanwhile: this answer is about the past.
    if (!this.#stable || generationId !== this.generationId) return;
    if (code === ErrorCodes.NONE) return;
    if (code === ErrorCodes.REBALANCE_IN_PROGRESS) return this.#askRejoin('the group is rebalancing');
    if (COORDINATOR_ERRORS.has(code)) {
      this.#dropCoordinator();
      return;
    }
    if (code === ErrorCodes.UNKNOWN_MEMBER_ID || code === ErrorCodes.ILLEGAL_GENERATION || code === ErrorCodes.FENCED_INSTANCE_ID) {
      const reason = `heartbeat answered ${kafkaError(code).errorName}: the group no longer has this member`;
      this.#logger.warn({ memberId: this.memberId, generationId, code }, reason);
      this.#reset(code !== ErrorCodes.ILLEGAL_GENERATION);
      this.#emit({ type: 'lost', reason });
      return;
    }
    this.#logger.warn({ code }, 'unexpected heartbeat error');
  }

  /** New topics for a pattern, or (the leader) new partitions: the group must rebalance. */
  async #checkMetadata(): Promise<void> {
    try {
      if ('pattern' in this.#subscription) {
        const topics = await this.#resolveSubscription();
        if (topics.join('\u0000') !== this.#joinedTopics.join('\u0000')) return this.#askRejoin('the topics matching the subscription changed');
      }
      if (this.#assignedCounts !== null) {
        const counts = await this.#partitionCounts([...this.#assignedCounts.keys()]);
        for (const [topic, count] of this.#assignedCounts) {
          if ((counts.get(topic) ?? 0) !== count) return this.#askRejoin(`topic ${topic} now has ${counts.get(topic) ?? 0} partitions`);
        }
      }
    } catch (error) {
      this.#logger.warn({ err: error }, 'metadata check failed');
    }
  }

  #askRejoin(reason: string): void {
    if (this.#rejoinAsked || !this.#stable) return;
    this.#rejoinAsked = true;
    this.#emit({ type: 'rejoin-needed', reason });
  }

  // ---- the coordinator ----

  async #coordinatorRequest(apiKey: number, body: Body): Promise<Body> {
    const coordinator = await this.#ensureCoordinator();
    try {
      return await coordinator.client.request(apiKey, body, { timeoutMs: this.#options.requestTimeoutMs }) as Body;
    } catch (error) {
      this.#dropCoordinator();
      throw error;
    }
  }

  #ensureCoordinator(): Promise<Coordinator> {
    if (this.#closed) return Promise.reject(new IllegalStateError('the consumer is closed'));
    this.#coordinator ??= this.#findCoordinator();
    const found = this.#coordinator;
    found.catch(() => this.#coordinator === found && (this.#coordinator = null));
    return found;
  }

  async #findCoordinator(): Promise<Coordinator> {
    const { client } = await this.#clients.any();
    const answer = await client.request(ApiKeys.FIND_COORDINATOR, {
      key: this.#options.groupId, keyType: KEY_TYPE_GROUP, coordinatorKeys: [this.#options.groupId],
    }, { timeoutMs: this.#options.requestTimeoutMs }) as Body;
    const found: Body = answer.coordinators?.[0] ?? answer;
    if (found.errorCode !== ErrorCodes.NONE) throw kafkaError(found.errorCode as number, found.errorMessage ?? null);
    // The embedded broker answers host 'embedded': the node id is what the connector needs.
    const nodeId = found.nodeId as number;
    return { nodeId, client: await this.#clients.get(nodeId), joinClient: null };
  }

  #dropCoordinator(): void {
    const coordinator = this.#coordinator;
    this.#coordinator = null;
    void coordinator?.then((c) => {
      c.joinClient?.close();
      this.#clients.drop(c.nodeId);
    }, () => undefined);
  }

  /** Out of the generation; with `memberId`, out of the group too (a new member id next time). */
  #reset(memberId: boolean): void {
    this.#stable = false;
    clearTimeout(this.#timer);
    this.generationId = -1;
    this.#assignedCounts = null;
    if (memberId) this.memberId = '';
  }

  #backoffMs(attempts: number): number {
    return withJitter(exponentialBackoffMs(attempts, this.#options.retryBackoffMs, this.#options.retryBackoffMaxMs));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
