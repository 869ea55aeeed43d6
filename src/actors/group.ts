/**
 * One classic consumer group's state, as Kafka's GroupMetadata and MemberMetadata: its members
 * and their protocols, the state machine (an illegal transition throws), the generation, the
 * chosen protocol and leader, the callbacks of members waiting in JoinGroup or SyncGroup, and the
 * group's committed offsets. The rules that move it (rebalances, timers, storage) are the
 * GroupCoordinator's. Lives in the broker worker; not thread-safe.
 */
import { randomUUID } from 'node:crypto';
import { IllegalStateError } from '../shared/errors.js';
import { ErrorCodes } from '../shared/protocol/index.js';

export const GroupState = {
  EMPTY: 'Empty',
  PREPARING_REBALANCE: 'PreparingRebalance',
  COMPLETING_REBALANCE: 'CompletingRebalance',
  STABLE: 'Stable',
  DEAD: 'Dead',
} as const;

export type GroupStateName = (typeof GroupState)[keyof typeof GroupState];

/** Kafka's GroupState.validPreviousStates: the states each one may be entered from. */
const VALID_PREVIOUS_STATES: Readonly<Record<GroupStateName, readonly GroupStateName[]>> = {
  [GroupState.EMPTY]: [GroupState.PREPARING_REBALANCE],
  [GroupState.PREPARING_REBALANCE]: [GroupState.STABLE, GroupState.COMPLETING_REBALANCE, GroupState.EMPTY],
  [GroupState.COMPLETING_REBALANCE]: [GroupState.PREPARING_REBALANCE],
  [GroupState.STABLE]: [GroupState.COMPLETING_REBALANCE],
  [GroupState.DEAD]: [GroupState.STABLE, GroupState.PREPARING_REBALANCE, GroupState.COMPLETING_REBALANCE, GroupState.EMPTY, GroupState.DEAD],
};

export interface Protocol {
  name: string;
  metadata: Uint8Array;
}

/** What a member's JoinGroup is answered with. */
export interface JoinResult {
  errorCode: number;
  memberId: string;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string;
  /** Every member's metadata for the chosen protocol, for the leader only. */
  members: { memberId: string; groupInstanceId: string | null; metadata: Uint8Array }[];
}

/** What a member's SyncGroup is answered with. */
export interface SyncResult {
  errorCode: number;
  assignment: Uint8Array;
}

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
  expireTimestampMs: number | null;
  /** Offset of the batch in __consumer_offsets that holds it: of two commits, the later record wins. */
  recordOffset: number;
}

export const NO_MEMBER_ID = '';
export const NO_GENERATION = -1;
const EMPTY_BYTES = new Uint8Array(0);

export class GroupMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly protocolType: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocols: readonly Protocol[];
  assignment: Uint8Array = EMPTY_BYTES;
  /** Set while the member's JoinGroup waits for the rebalance to complete. */
  awaitingJoin: ((result: JoinResult) => void) | null = null;
  /** Set while the member's SyncGroup waits for the leader's assignment. */
  awaitingSync: ((result: SyncResult) => void) | null = null;
  /** Joined in the current rebalance, not yet through one: its first JoinGroup is bounded by NEW_MEMBER_JOIN_TIMEOUT_MS. */
  isNew = false;
  latestHeartbeatMs = 0;

  constructor(fields: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; protocolType: string; rebalanceTimeoutMs: number; sessionTimeoutMs: number; protocols: readonly Protocol[] }) {
    this.memberId = fields.memberId;
    this.groupInstanceId = fields.groupInstanceId;
    this.clientId = fields.clientId;
    this.clientHost = fields.clientHost;
    this.protocolType = fields.protocolType;
    this.rebalanceTimeoutMs = fields.rebalanceTimeoutMs;
    this.sessionTimeoutMs = fields.sessionTimeoutMs;
    this.protocols = fields.protocols;
  }

  supports(protocolName: string): boolean {
    return this.protocols.some((p) => p.name === protocolName);
  }

  /** This member's metadata for `protocolName` (which it must support). */
  metadata(protocolName: string): Uint8Array {
    const found = this.protocols.find((p) => p.name === protocolName);
    if (found === undefined) throw new IllegalStateError(`member ${this.memberId} does not support protocol ${protocolName}`);
    return found.metadata;
  }

  /** Whether a rejoin brings the same protocols, in the same order, with the same metadata. */
  matches(protocols: readonly Protocol[]): boolean {
    return protocols.length === this.protocols.length
      && protocols.every((p, i) => p.name === this.protocols[i]!.name && Buffer.compare(p.metadata, this.protocols[i]!.metadata) === 0);
  }

  /** Its most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const choice = this.protocols.find((p) => candidates.has(p.name));
    if (choice === undefined) throw new IllegalStateError(`member ${this.memberId} supports none of ${[...candidates].join(', ')}`);
    return choice.name;
  }
}

export class ClassicGroup {
  readonly groupId: string;
  #state: GroupStateName;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  currentStateTimestampMs: number;
  readonly members = new Map<string, GroupMember>();
  /** Members given an id (MEMBER_ID_REQUIRED, KIP-394) that have not joined with it yet. */
  readonly pendingMembers = new Set<string>();
  /** A member joined during the initial rebalance delay, so the delay is extended (KIP-134). */
  newMemberAdded = false;
  /** topic → partition → committed offset. */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();

  constructor(groupId: string, state: GroupStateName = GroupState.EMPTY, nowMs = Date.now()) {
    this.groupId = groupId;
    this.#state = state;
    this.currentStateTimestampMs = nowMs;
  }

  get state(): GroupStateName {
    return this.#state;
  }

  is(state: GroupStateName): boolean {
    return this.#state === state;
  }

  transitionTo(state: GroupStateName, nowMs = Date.now()): void {
    if (!VALID_PREVIOUS_STATES[state].includes(this.#state)) {
      throw new IllegalStateError(`group ${this.groupId} cannot move from ${this.#state} to ${state}`);
    }
    this.#state = state;
    this.currentStateTimestampMs = nowMs;
  }

  /** Rebalancing starts from these states; PreparingRebalance is one already. */
  canRebalance(): boolean {
    return VALID_PREVIOUS_STATES[GroupState.PREPARING_REBALANCE].includes(this.#state);
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): GroupMember {
    const member = this.members.get(memberId);
    if (member === undefined) throw new IllegalStateError(`group ${this.groupId} has no member ${memberId}`);
    return member;
  }

  /** The member that joined with this group.instance.id (static membership, KIP-345), if any. */
  memberByInstanceId(groupInstanceId: string): GroupMember | undefined {
    for (const member of this.members.values()) if (member.groupInstanceId === groupInstanceId) return member;
    return undefined;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  /** Kafka's member ids: the client id (or static instance id) and a random UUID. */
  generateMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${randomUUID()}`;
  }

  add(member: GroupMember, onJoin: ((result: JoinResult) => void) | null): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.leaderId ??= member.memberId;
    this.members.set(member.memberId, member);
    this.pendingMembers.delete(member.memberId);
    member.awaitingJoin = onJoin;
  }

  remove(memberId: string): void {
    this.members.delete(memberId);
    if (this.isLeader(memberId)) this.leaderId = this.members.keys().next().value ?? null;
  }

  /** A rejoin: new protocols and timeouts, and the JoinGroup to answer when the rebalance completes. */
  updateMember(member: GroupMember, protocols: readonly Protocol[], rebalanceTimeoutMs: number, sessionTimeoutMs: number, onJoin: (result: JoinResult) => void): void {
    member.protocols = protocols;
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    // A second JoinGroup from the same member (its client gave up on the first) replaces the
    // first, which still gets an answer so that its connection is not left waiting for it.
    this.maybeInvokeJoin(member, joinError(member.memberId, ErrorCodes.REBALANCE_IN_PROGRESS));
    member.awaitingJoin = onJoin;
  }

  maybeInvokeJoin(member: GroupMember, result: JoinResult): void {
    const callback = member.awaitingJoin;
    member.awaitingJoin = null;
    callback?.(result);
  }

  /** True when a SyncGroup was waiting and has been answered. */
  maybeInvokeSync(member: GroupMember, result: SyncResult): boolean {
    const callback = member.awaitingSync;
    member.awaitingSync = null;
    callback?.(result);
    return callback !== null;
  }

  /** Every member rejoined, and no member given an id is still on its way (KIP-394). */
  hasAllMembersJoined(): boolean {
    for (const member of this.members.values()) if (member.awaitingJoin === null) return false;
    return this.pendingMembers.size === 0;
  }

  notYetRejoinedMembers(): GroupMember[] {
    return [...this.members.values()].filter((m) => m.awaitingJoin === null);
  }

  /** The longest rebalance timeout of its members: how long a rebalance waits for rejoins. */
  rebalanceTimeoutMs(): number {
    let longest = 0;
    for (const member of this.members.values()) longest = Math.max(longest, member.rebalanceTimeoutMs);
    return longest;
  }

  /** Whether a member with these protocols may join: the type must match and one protocol be common to all. */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.is(GroupState.EMPTY)) return protocolType.length > 0 && protocolNames.length > 0;
    return this.protocolType === protocolType
      && protocolNames.some((name) => [...this.members.values()].every((m) => m.supports(name)));
  }

  /** Kafka's choice: among the protocols every member supports, the one most members prefer. */
  selectProtocol(): string {
    const members = [...this.members.values()];
    const candidates = new Set(members[0]!.protocols.map((p) => p.name).filter((name) => members.every((m) => m.supports(name))));
    const votes = new Map<string, number>();
    for (const member of members) {
      const choice = member.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let chosen = '';
    let most = 0;
    for (const [name, count] of votes) if (count > most) [chosen, most] = [name, count];
    return chosen;
  }

  /** A rebalance's end: the next generation, Stable-bound (CompletingRebalance) or Empty. */
  initNextGeneration(nowMs = Date.now()): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo(GroupState.COMPLETING_REBALANCE, nowMs);
    } else {
      this.protocolName = null;
      this.transitionTo(GroupState.EMPTY, nowMs);
    }
  }

  /** The members' metadata for the chosen protocol: what the leader assigns from. */
  currentMemberMetadata(): JoinResult['members'] {
    const protocol = this.protocolName;
    if (protocol === null) throw new IllegalStateError(`group ${this.groupId} has no protocol yet`);
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(protocol) }));
  }

  /** This generation's answer to a member's JoinGroup: the member list goes to the leader only. */
  joinResult(memberId: string, errorCode: number): JoinResult {
    return {
      errorCode,
      memberId,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leaderId: this.leaderId ?? '',
      members: this.isLeader(memberId) ? this.currentMemberMetadata() : [],
    };
  }

  hasOffsets(): boolean {
    return this.offsets.size > 0;
  }

  offset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  /** Keeps a committed offset unless a later record (by its offset in the log) is already in. */
  putOffset(topic: string, partition: number, committed: CommittedOffset): void {
    let partitions = this.offsets.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.offsets.set(topic, partitions);
    }
    const current = partitions.get(partition);
    if (current === undefined || current.recordOffset <= committed.recordOffset) partitions.set(partition, committed);
  }

  removeOffset(topic: string, partition: number): void {
    const partitions = this.offsets.get(topic);
    partitions?.delete(partition);
    if (partitions?.size === 0) this.offsets.delete(topic);
  }
}

/** The JoinGroup answer for an error: no generation, protocol or leader. */
export function joinError(memberId: string, errorCode: number): JoinResult {
  return { errorCode, memberId, generationId: NO_GENERATION, protocolType: null, protocolName: null, leaderId: '', members: [] };
}
