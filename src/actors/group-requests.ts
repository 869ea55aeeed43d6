/**
 * What the GroupCoordinator is asked and what it answers, per group API: the requests as the
 * coordinator sees them (whatever the API version) and its answers before GroupApis shapes them
 * into a version's response.
 */
import type { OffsetToStore } from './group-metadata-manager.js';
import type { Protocol, SyncResult } from './group.js';

export interface JoinGroupRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  /** JoinGroup v4+ from a dynamic member: a member without an id gets one and rejoins with it (KIP-394). */
  requireKnownMemberId: boolean;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: readonly Protocol[];
  reason: string | null;
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  /** SyncGroup v5 names the protocol it assigned for; null when the version does not. */
  protocolType: string | null;
  protocolName: string | null;
  assignments: ReadonlyMap<string, Uint8Array>;
}

export interface SyncGroupAnswer extends SyncResult {
  protocolType: string | null;
  protocolName: string | null;
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveGroupAnswer {
  errorCode: number;
  members: (MemberIdentity & { errorCode: number })[];
}

export interface OffsetCommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  offsets: readonly OffsetToStore[];
}

export interface PartitionOffset {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface OffsetFetchAnswer {
  errorCode: number;
  topics: { name: string; partitions: PartitionOffset[] }[];
}

export interface GroupSummary {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; memberMetadata: Uint8Array; memberAssignment: Uint8Array }[];
}

export interface GroupOverview {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}
