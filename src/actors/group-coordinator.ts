/**
 * GroupCoordinator: the classic consumer-group protocol as Kafka's GroupCoordinator runs it, for
 * every group (a single broker coordinates all of them). It moves each group through Empty →
 * PreparingRebalance → CompletingRebalance → Stable (Dead once unloaded): members join (a new one
 * first gets its id, KIP-394), the first rebalance of an empty group waits
 * group.initial.rebalance.delay.ms for more members (KIP-134), a rebalance completes when every
 * member has rejoined or its rebalance timeout ends (the missing are dropped), the leader's
 * SyncGroup is stored and hands every member its assignment, and a member whose session passes
 * without a heartbeat is removed. Offsets are committed with generation and member checks and
 * answered once written. Timers run on this thread's event loop, all in one KeyedTimers, and
 * shutdown() answers every waiting JoinGroup and SyncGroup with NOT_COORDINATOR, as Kafka does when
 * it unloads a group. Static membership (KIP-345) is not implemented: an instance id is kept and
 * reported, and a member may leave by it, but it joins as a dynamic member does.
 * Lives in the broker worker; not thread-safe.
 */
import type { Logger } from '../shared/logger.js';
import { KeyedTimers } from '../shared/keyed-timers.js';
import { ErrorCodes } from '../shared/protocol/index.js';
import { ClassicGroup, GroupMember, GroupState, joinError, NO_MEMBER_ID, type CommittedOffset, type JoinResult, type SyncResult } from './group.js';
import type { GroupMetadataManager } from './group-metadata-manager.js';
import type {
  GroupOverview,
  GroupSummary,
  JoinGroupRequest,
  LeaveGroupAnswer,
  MemberIdentity,
  OffsetCommitRequest,
  OffsetFetchAnswer,
  PartitionOffset,
  SyncGroupAnswer,
  SyncGroupRequest,
} from './group-requests.js';

export interface GroupCoordinatorConfig {
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms */
  minSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  maxSessionTimeoutMs: number;
}

/** Kafka's GroupCoordinator.NewMemberJoinTimeoutMs: how long a new member's first JoinGroup may wait. */
const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60_000;
/** Kafka's offset.metadata.max.bytes default: the longest metadata string a commit may carry. */
const OFFSET_METADATA_MAX_LENGTH = 4_096;
/** Every group here is a classic group (KIP-848's consumer groups are not served). */
const CLASSIC_GROUP_TYPE = 'classic';
const EMPTY_BYTES = new Uint8Array(0);

const memberKey = (group: ClassicGroup, memberId: string): string => `member\u0000${group.groupId}\u0000${memberId}`;
const joinKey = (group: ClassicGroup): string => `join\u0000${group.groupId}`;

export class GroupCoordinator {
  readonly #store: GroupMetadataManager;
  readonly #config: GroupCoordinatorConfig;
  readonly #logger: Logger;
  readonly #groups = new Map<string, ClassicGroup>();
  readonly #timers = new KeyedTimers();
  /** Groups in their first rebalance's initial delay: they complete on the timer only (KIP-134). */
  readonly #initialDelay = new Set<ClassicGroup>();
  #active = false;

  constructor(store: GroupMetadataManager, config: GroupCoordinatorConfig, logger: Logger) {
    this.#store = store;
    this.#config = config;
    this.#logger = logger;
  }

  /** Loads the groups stored in __consumer_offsets, then serves. */
  async startup(): Promise<void> {
    for (const [groupId, group] of await this.#store.load()) {
      this.#groups.set(groupId, group);
      // Kafka's onGroupLoaded: the stored members keep the generation if they heartbeat in time.
      for (const member of group.members.values()) this.#scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
    }
    this.#active = true;
  }

  /** Unloads every group: waiting JoinGroups and SyncGroups are answered, every timer is cleared. */
  shutdown(): void {
    this.#active = false;
    for (const group of this.#groups.values()) {
      group.transitionTo(GroupState.DEAD);
      for (const member of group.members.values()) {
        group.maybeInvokeJoin(member, joinError(member.memberId, ErrorCodes.NOT_COORDINATOR));
        group.maybeInvokeSync(member, { errorCode: ErrorCodes.NOT_COORDINATOR, assignment: EMPTY_BYTES });
      }
    }
    this.#groups.clear();
    this.#initialDelay.clear();
    this.#timers.cancelAll();
    this.#store.close();
  }

  /** Serving: started up and not shut down. */
  get isActive(): boolean {
    return this.#active;
  }

  joinGroup(request: JoinGroupRequest): Promise<JoinResult> {
    const invalid = this.#validateGroupStatus(request.groupId, false);
    if (invalid !== null) return Promise.resolve(joinError(request.memberId, invalid));
    if (request.sessionTimeoutMs < this.#config.minSessionTimeoutMs || request.sessionTimeoutMs > this.#config.maxSessionTimeoutMs) {
      return Promise.resolve(joinError(request.memberId, ErrorCodes.INVALID_SESSION_TIMEOUT));
    }
    const isUnknownMember = request.memberId === NO_MEMBER_ID;
    let group = this.#groups.get(request.groupId);
    if (group === undefined) {
      // Only a member without an id creates a group: an id for a group that is gone is stale.
      if (!isUnknownMember) return Promise.resolve(joinError(request.memberId, ErrorCodes.UNKNOWN_MEMBER_ID));
      group = new ClassicGroup(request.groupId);
      this.#groups.set(group.groupId, group);
    }
    const joining = group;
    return new Promise((respond) => {
      if (isUnknownMember) this.#joinNewMember(joining, request, respond);
      else this.#joinCurrentMember(joining, request, respond);
      this.#maybeCompleteJoin(joining);
    });
  }

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupAnswer> {
    const fail = (errorCode: number): Promise<SyncGroupAnswer> => Promise.resolve({ errorCode, assignment: EMPTY_BYTES, protocolType: null, protocolName: null });
    const invalid = this.#validateGroupStatus(request.groupId, false);
    if (invalid !== null) return fail(invalid);
    const group = this.#groups.get(request.groupId);
    if (group === undefined) return fail(ErrorCodes.UNKNOWN_MEMBER_ID);
    if (group.is(GroupState.DEAD)) return fail(ErrorCodes.COORDINATOR_NOT_AVAILABLE);
    const member = group.members.get(request.memberId);
    if (member === undefined) return fail(ErrorCodes.UNKNOWN_MEMBER_ID);
    if (request.generationId !== group.generationId) return fail(ErrorCodes.ILLEGAL_GENERATION);
    if ((request.protocolType !== null && request.protocolType !== group.protocolType) || (request.protocolName !== null && request.protocolName !== group.protocolName)) {
      return fail(ErrorCodes.INCONSISTENT_GROUP_PROTOCOL);
    }
    switch (group.state) {
      case GroupState.EMPTY:
        return fail(ErrorCodes.UNKNOWN_MEMBER_ID);
      case GroupState.PREPARING_REBALANCE:
        return fail(ErrorCodes.REBALANCE_IN_PROGRESS);
      case GroupState.STABLE:
        this.#scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
        return Promise.resolve(this.#syncAnswer(group, { errorCode: ErrorCodes.NONE, assignment: member.assignment }));
      default:
        // CompletingRebalance: followers wait for the leader's assignment.
        return new Promise((resolve) => {
          // A repeated SyncGroup replaces the first, which still gets an answer.
          group.maybeInvokeSync(member, { errorCode: ErrorCodes.REBALANCE_IN_PROGRESS, assignment: EMPTY_BYTES });
          member.awaitingSync = (result) => resolve(this.#syncAnswer(group, result));
          if (group.isLeader(member.memberId)) this.#storeAssignment(group, request.assignments);
        });
    }
  }

  heartbeat(groupId: string, memberId: string, generationId: number): number {
    const invalid = this.#validateGroupStatus(groupId, false);
    if (invalid !== null) return invalid;
    const group = this.#groups.get(groupId);
    if (group === undefined) return ErrorCodes.UNKNOWN_MEMBER_ID;
    if (group.is(GroupState.DEAD)) return ErrorCodes.COORDINATOR_NOT_AVAILABLE;
    const member = group.members.get(memberId);
    if (member === undefined || group.is(GroupState.EMPTY)) return ErrorCodes.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCodes.ILLEGAL_GENERATION;
    this.#scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
    // A heartbeat during CompletingRebalance is a plain heartbeat (the member has its JoinGroup answer).
    return group.is(GroupState.PREPARING_REBALANCE) ? ErrorCodes.REBALANCE_IN_PROGRESS : ErrorCodes.NONE;
  }

  leaveGroup(groupId: string, leaving: readonly MemberIdentity[]): LeaveGroupAnswer {
    const invalid = this.#validateGroupStatus(groupId, false);
    if (invalid !== null) return { errorCode: invalid, members: [] };
    const group = this.#groups.get(groupId);
    if (group === undefined) return { errorCode: ErrorCodes.NONE, members: leaving.map((m) => ({ ...m, errorCode: ErrorCodes.UNKNOWN_MEMBER_ID })) };
    if (group.is(GroupState.DEAD)) return { errorCode: ErrorCodes.COORDINATOR_NOT_AVAILABLE, members: [] };
    return {
      errorCode: ErrorCodes.NONE,
      members: leaving.map(({ memberId, groupInstanceId }) => ({ memberId, groupInstanceId, errorCode: this.#leave(group, memberId, groupInstanceId) })),
    };
  }

  async commitOffsets(request: OffsetCommitRequest): Promise<number[]> {
    const all = (errorCode: number): number[] => request.offsets.map(() => errorCode);
    const invalid = this.#validateGroupStatus(request.groupId, true);
    if (invalid !== null) return all(invalid);
    let group = this.#groups.get(request.groupId);
    if (group === undefined) {
      // Without a generation the group does not use Kafka's group management and may commit;
      // with one, the commit comes from a generation that is gone.
      if (request.generationId >= 0) return all(ErrorCodes.ILLEGAL_GENERATION);
      group = new ClassicGroup(request.groupId);
      this.#groups.set(group.groupId, group);
    }
    const rejected = this.#validateOffsetCommit(group, request);
    if (rejected !== null) return all(rejected);
    // The member has its JoinGroup answer but not its assignment: it should not be committing yet.
    if (group.is(GroupState.COMPLETING_REBALANCE)) return all(ErrorCodes.REBALANCE_IN_PROGRESS);
    const member = group.members.get(request.memberId);
    // A commit during PreparingRebalance is allowed; its heartbeat will tell the member to rejoin.
    if (member !== undefined) this.#scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
    const errors = request.offsets.map((o) => (o.metadata.length > OFFSET_METADATA_MAX_LENGTH ? ErrorCodes.OFFSET_METADATA_TOO_LARGE : ErrorCodes.NONE));
    const valid = request.offsets.filter((_, i) => errors[i] === ErrorCodes.NONE);
    if (valid.length === 0) return errors;
    const { errorCode, recordOffset } = await this.#store.storeOffsets(group.groupId, valid);
    if (errorCode === ErrorCodes.NONE) {
      for (const { topic, partition, ...value } of valid) group.putOffset(topic, partition, { ...value, recordOffset });
    }
    return errors.map((e) => (e === ErrorCodes.NONE ? errorCode : e));
  }

  /** Committed offsets: of the partitions asked for (-1 where none), or all of the group's (topics null). */
  fetchOffsets(groupId: string, topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null): OffsetFetchAnswer {
    const invalid = this.#validateGroupStatus(groupId, true);
    if (invalid !== null) return { errorCode: invalid, topics: [] };
    const group = this.#groups.get(groupId);
    if (topics === null) {
      return {
        errorCode: ErrorCodes.NONE,
        topics: [...(group?.offsets ?? [])].map(([name, partitions]) => ({ name, partitions: [...partitions].map(([p, committed]) => partitionOffset(p, committed)) })),
      };
    }
    return {
      errorCode: ErrorCodes.NONE,
      topics: topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => partitionOffset(p, group?.offset(t.name, p))) })),
    };
  }

  describeGroup(groupId: string): GroupSummary {
    const invalid = this.#validateGroupStatus(groupId, true);
    if (invalid !== null) return { errorCode: invalid, groupId, groupState: '', protocolType: '', protocolData: '', members: [] };
    const group = this.#groups.get(groupId);
    if (group === undefined) return { errorCode: ErrorCodes.NONE, groupId, groupState: GroupState.DEAD, protocolType: '', protocolData: '', members: [] };
    // Metadata and assignments are shown for a Stable group only: during a rebalance they are in flux.
    const protocol = group.is(GroupState.STABLE) ? group.protocolName : null;
    return {
      errorCode: ErrorCodes.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: protocol ?? '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: protocol === null ? EMPTY_BYTES : m.metadata(protocol),
        memberAssignment: protocol === null ? EMPTY_BYTES : m.assignment,
      })),
    };
  }

  /** Every group, or those in the given states (any case) and of the given types. */
  listGroups(statesFilter: readonly string[], typesFilter: readonly string[]): { errorCode: number; groups: GroupOverview[] } {
    if (!this.#active) return { errorCode: ErrorCodes.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((t) => t.toLowerCase()));
    if (types.size > 0 && !types.has(CLASSIC_GROUP_TYPE)) return { errorCode: ErrorCodes.NONE, groups: [] };
    const groups = [...this.#groups.values()]
      .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state, groupType: CLASSIC_GROUP_TYPE }));
    return { errorCode: ErrorCodes.NONE, groups };
  }

  #validateGroupStatus(groupId: string, allowEmptyGroupId: boolean): number | null {
    // OffsetCommit, OffsetFetch and DescribeGroups accept the empty group id, for backward compatibility.
    if (groupId === '' && !allowEmptyGroupId) return ErrorCodes.INVALID_GROUP_ID;
    return this.#active ? null : ErrorCodes.COORDINATOR_NOT_AVAILABLE;
  }

  #validateOffsetCommit(group: ClassicGroup, request: OffsetCommitRequest): number | null {
    if (group.is(GroupState.DEAD)) return ErrorCodes.COORDINATOR_NOT_AVAILABLE;
    // A commit without a generation (admin client, manually assigned consumer) needs a group with no members.
    if (request.generationId < 0 && group.is(GroupState.EMPTY)) return null;
    if (request.generationId >= 0 || request.memberId !== NO_MEMBER_ID || request.groupInstanceId !== null) {
      if (!group.has(request.memberId)) return ErrorCodes.UNKNOWN_MEMBER_ID;
      return request.generationId === group.generationId ? null : ErrorCodes.ILLEGAL_GENERATION;
    }
    return ErrorCodes.UNKNOWN_MEMBER_ID;
  }

  #joinNewMember(group: ClassicGroup, request: JoinGroupRequest, respond: (result: JoinResult) => void): void {
    if (group.is(GroupState.DEAD)) return respond(joinError(NO_MEMBER_ID, ErrorCodes.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(request.protocolType, request.protocols.map((p) => p.name))) {
      return respond(joinError(NO_MEMBER_ID, ErrorCodes.INCONSISTENT_GROUP_PROTOCOL));
    }
    const memberId = group.generateMemberId(request.clientId, request.groupInstanceId);
    if (request.requireKnownMemberId) {
      // The member is pending until it rejoins with its id; a rebalance waits for it (KIP-394).
      group.pendingMembers.add(memberId);
      this.#timers.schedule(memberKey(group, memberId), request.sessionTimeoutMs, () => {
        this.#logger.info({ groupId: group.groupId, memberId }, 'pending member did not rejoin within its session timeout');
        this.#removePendingMember(group, memberId);
      });
      return respond(joinError(memberId, ErrorCodes.MEMBER_ID_REQUIRED));
    }
    this.#addMemberAndRebalance(group, memberId, request, respond);
  }

  #joinCurrentMember(group: ClassicGroup, request: JoinGroupRequest, respond: (result: JoinResult) => void): void {
    if (group.is(GroupState.DEAD)) return respond(joinError(request.memberId, ErrorCodes.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(request.protocolType, request.protocols.map((p) => p.name))) {
      return respond(joinError(request.memberId, ErrorCodes.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (group.pendingMembers.has(request.memberId)) return this.#addMemberAndRebalance(group, request.memberId, request, respond);
    const member = group.members.get(request.memberId);
    if (member === undefined) return respond(joinError(request.memberId, ErrorCodes.UNKNOWN_MEMBER_ID));
    switch (group.state) {
      case GroupState.PREPARING_REBALANCE:
        return this.#updateMemberAndRebalance(group, member, request, respond);
      case GroupState.COMPLETING_REBALANCE:
        // The same metadata again: the member missed its JoinGroup answer, so it gets it again.
        if (member.matches(request.protocols)) return respond(group.joinResult(member.memberId, ErrorCodes.NONE));
        return this.#updateMemberAndRebalance(group, member, request, respond);
      case GroupState.STABLE:
        // The leader rejoining forces a rebalance (its assignment inputs changed); so does new metadata.
        if (group.isLeader(member.memberId) || !member.matches(request.protocols)) return this.#updateMemberAndRebalance(group, member, request, respond);
        return respond(group.joinResult(member.memberId, ErrorCodes.NONE));
      default:
        return respond(joinError(request.memberId, ErrorCodes.UNKNOWN_MEMBER_ID));
    }
  }

  #addMemberAndRebalance(group: ClassicGroup, memberId: string, request: JoinGroupRequest, respond: (result: JoinResult) => void): void {
    const member = new GroupMember({
      memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: request.clientId,
      clientHost: request.clientHost,
      protocolType: request.protocolType,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      sessionTimeoutMs: request.sessionTimeoutMs,
      protocols: request.protocols,
    });
    member.isNew = true;
    // A new member during the first rebalance extends the initial delay once more.
    if (group.is(GroupState.PREPARING_REBALANCE) && group.generationId === 0) group.newMemberAdded = true;
    group.add(member, respond);
    // A new member cannot heartbeat while it waits in JoinGroup: its wait is bounded instead.
    this.#scheduleHeartbeatExpiration(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.#maybePrepareRebalance(group, `new member ${memberId} joined${reasonSuffix(request.reason)}`);
  }

  #updateMemberAndRebalance(group: ClassicGroup, member: GroupMember, request: JoinGroupRequest, respond: (result: JoinResult) => void): void {
    group.updateMember(member, request.protocols, request.rebalanceTimeoutMs, request.sessionTimeoutMs, respond);
    this.#maybePrepareRebalance(group, `member ${member.memberId} rejoined${reasonSuffix(request.reason)}`);
  }

  #maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.canRebalance()) this.#prepareRebalance(group, reason);
  }

  #prepareRebalance(group: ClassicGroup, reason: string): void {
    // Members waiting for an assignment will not get one: they must rejoin.
    if (group.is(GroupState.COMPLETING_REBALANCE)) this.#propagateAssignment(group, ErrorCodes.REBALANCE_IN_PROGRESS, new Map());
    const initial = group.is(GroupState.EMPTY);
    const rebalanceTimeoutMs = group.rebalanceTimeoutMs();
    group.transitionTo(GroupState.PREPARING_REBALANCE);
    this.#logger.info({ groupId: group.groupId, generationId: group.generationId, reason }, 'preparing to rebalance group');
    if (initial) {
      const delayMs = this.#config.initialRebalanceDelayMs;
      this.#initialDelay.add(group);
      this.#scheduleInitialJoin(group, delayMs, Math.max(rebalanceTimeoutMs - delayMs, 0));
    } else {
      this.#timers.schedule(joinKey(group), rebalanceTimeoutMs, () => this.#completeJoin(group));
      this.#maybeCompleteJoin(group);
    }
  }

  /** Kafka's InitialDelayedJoin: wait the delay, and again while new members keep coming, within the rebalance timeout. */
  #scheduleInitialJoin(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    this.#timers.schedule(joinKey(group), delayMs, () => {
      if (group.newMemberAdded && remainingMs !== 0) {
        group.newMemberAdded = false;
        this.#scheduleInitialJoin(group, Math.min(this.#config.initialRebalanceDelayMs, remainingMs), Math.max(remainingMs - delayMs, 0));
      } else {
        this.#completeJoin(group);
      }
    });
  }

  #maybeCompleteJoin(group: ClassicGroup): void {
    if (group.is(GroupState.PREPARING_REBALANCE) && !this.#initialDelay.has(group) && group.hasAllMembersJoined()) this.#completeJoin(group);
  }

  /** The rebalance ends: absent members go, the next generation starts and every JoinGroup is answered. */
  #completeJoin(group: ClassicGroup): void {
    this.#timers.cancel(joinKey(group));
    this.#initialDelay.delete(group);
    if (!group.is(GroupState.PREPARING_REBALANCE)) return;
    for (const member of group.notYetRejoinedMembers()) {
      this.#logger.info({ groupId: group.groupId, memberId: member.memberId }, 'member did not rejoin within the rebalance timeout; removing it');
      this.#dropMember(group, member);
    }
    group.initNextGeneration();
    if (group.is(GroupState.EMPTY)) {
      this.#logger.info({ groupId: group.groupId, generationId: group.generationId }, 'group is empty');
      this.#store.storeGroup(group, new Map()).then(
        ({ errorCode }) => {
          // The previous generation stays in the log; with no members it is harmless, as Kafka notes.
          if (errorCode !== ErrorCodes.NONE) this.#logger.warn({ groupId: group.groupId, errorCode }, 'could not store the empty group');
        },
        (error: unknown) => this.#logger.error({ err: error, groupId: group.groupId }, 'could not store the empty group'),
      );
      return;
    }
    this.#logger.info({ groupId: group.groupId, generationId: group.generationId, protocol: group.protocolName, leader: group.leaderId, members: group.members.size }, 'group rebalanced');
    for (const member of group.members.values()) {
      group.maybeInvokeJoin(member, group.joinResult(member.memberId, ErrorCodes.NONE));
      this.#scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
      member.isNew = false;
    }
  }

  /** Stores the leader's assignment; once written, every member's SyncGroup gets its own, and the group is Stable. */
  #storeAssignment(group: ClassicGroup, given: ReadonlyMap<string, Uint8Array>): void {
    const generationId = group.generationId;
    // Members the leader left out get an empty assignment.
    const assignments = new Map([...group.members.keys()].map((id) => [id, given.get(id) ?? EMPTY_BYTES]));
    this.#store.storeGroup(group, assignments).catch((error: unknown) => {
      this.#logger.error({ err: error, groupId: group.groupId }, 'could not store the group assignment');
      return { errorCode: ErrorCodes.UNKNOWN_SERVER_ERROR };
    }).then(({ errorCode }) => {
      // A member may have joined or left while the write was under way: then this generation is over.
      if (!group.is(GroupState.COMPLETING_REBALANCE) || group.generationId !== generationId) return;
      if (errorCode !== ErrorCodes.NONE) {
        this.#propagateAssignment(group, errorCode, new Map());
        this.#maybePrepareRebalance(group, `the assignment could not be stored (error code ${errorCode})`);
        return;
      }
      group.transitionTo(GroupState.STABLE);
      this.#propagateAssignment(group, ErrorCodes.NONE, assignments);
    });
  }

  /** Sets every member's assignment (empty on an error) and answers the SyncGroups waiting for it. */
  #propagateAssignment(group: ClassicGroup, errorCode: number, assignments: ReadonlyMap<string, Uint8Array>): void {
    for (const member of group.members.values()) {
      member.assignment = assignments.get(member.memberId) ?? EMPTY_BYTES;
      // Its session was on hold while it waited: it starts again now.
      if (group.maybeInvokeSync(member, { errorCode, assignment: member.assignment })) this.#scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
    }
  }

  #syncAnswer(group: ClassicGroup, result: SyncResult): SyncGroupAnswer {
    const ok = result.errorCode === ErrorCodes.NONE;
    return { ...result, protocolType: ok ? group.protocolType : null, protocolName: ok ? group.protocolName : null };
  }

  #leave(group: ClassicGroup, memberId: string, groupInstanceId: string | null): number {
    if (group.pendingMembers.has(memberId)) {
      this.#removePendingMember(group, memberId);
      return ErrorCodes.NONE;
    }
    // A static member may leave by its instance id alone (KIP-345).
    const member = group.members.get(memberId) ?? (memberId === NO_MEMBER_ID && groupInstanceId !== null ? group.memberByInstanceId(groupInstanceId) : undefined);
    if (member === undefined) return ErrorCodes.UNKNOWN_MEMBER_ID;
    this.#removeMemberAndUpdateGroup(group, member, `member ${member.memberId} left the group`);
    return ErrorCodes.NONE;
  }

  #removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember, reason: string): void {
    this.#dropMember(group, member);
    if (group.is(GroupState.STABLE) || group.is(GroupState.COMPLETING_REBALANCE)) this.#maybePrepareRebalance(group, reason);
    else this.#maybeCompleteJoin(group);
  }

  /** Takes a member out: a JoinGroup or SyncGroup it still waits in is answered UNKNOWN_MEMBER_ID. */
  #dropMember(group: ClassicGroup, member: GroupMember): void {
    group.maybeInvokeJoin(member, joinError(NO_MEMBER_ID, ErrorCodes.UNKNOWN_MEMBER_ID));
    group.maybeInvokeSync(member, { errorCode: ErrorCodes.UNKNOWN_MEMBER_ID, assignment: EMPTY_BYTES });
    this.#timers.cancel(memberKey(group, member.memberId));
    group.remove(member.memberId);
  }

  #removePendingMember(group: ClassicGroup, memberId: string): void {
    group.pendingMembers.delete(memberId);
    this.#timers.cancel(memberKey(group, memberId));
    this.#maybeCompleteJoin(group);
  }

  /** The member must be heard from (a heartbeat, a join, a sync, a commit) within timeoutMs. */
  #scheduleHeartbeatExpiration(group: ClassicGroup, member: GroupMember, timeoutMs: number): void {
    member.latestHeartbeatMs = Date.now();
    const deadlineMs = member.latestHeartbeatMs + timeoutMs;
    this.#timers.schedule(memberKey(group, member.memberId), timeoutMs, () => {
      if (group.members.get(member.memberId) !== member || shouldKeepAlive(member, deadlineMs)) return;
      this.#logger.info({ groupId: group.groupId, memberId: member.memberId, sessionTimeoutMs: member.sessionTimeoutMs }, 'member session expired; removing it');
      this.#removeMemberAndUpdateGroup(group, member, `member ${member.memberId}'s session expired`);
    });
  }
}

/**
 * Kafka's MemberMetadata.shouldKeepAlive: a member waiting in JoinGroup lives on (a new one for
 * NEW_MEMBER_JOIN_TIMEOUT_MS), as does one waiting in SyncGroup; any other must have been heard
 * from before the deadline.
 */
function shouldKeepAlive(member: GroupMember, deadlineMs: number): boolean {
  if (member.awaitingJoin !== null) return !member.isNew || member.latestHeartbeatMs + NEW_MEMBER_JOIN_TIMEOUT_MS > deadlineMs;
  return member.awaitingSync !== null || member.latestHeartbeatMs + member.sessionTimeoutMs > deadlineMs;
}

function partitionOffset(partitionIndex: number, committed: CommittedOffset | undefined): PartitionOffset {
  return {
    partitionIndex,
    committedOffset: committed?.offset ?? -1,
    committedLeaderEpoch: committed?.leaderEpoch ?? -1,
    metadata: committed?.metadata ?? '',
    errorCode: ErrorCodes.NONE,
  };
}

function reasonSuffix(reason: string | null): string {
  return reason === null || reason === '' ? '' : ` (${reason})`;
}
