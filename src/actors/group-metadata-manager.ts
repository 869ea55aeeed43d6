/**
 * GroupMetadataManager: the group coordinator's storage, Kafka's `__consumer_offsets` topic, as
 * Kafka's GroupMetadataManager keeps it. Committed offsets and each group's generation, protocol
 * and members are records in Kafka's formats (offsets-topic-format.ts) appended through the
 * ReplicaManager like any produce, one batch per write, in the partition the group hashes to; a
 * write is answered once the log writer reports it written. At start-up the topic is read back
 * and the groups rebuilt. Log compaction is out of scope: the topic only grows (it is exempt from
 * retention, which would otherwise delete live commits), and replay reads it whole.
 * Lives in the broker worker; not thread-safe.
 */
import { KafkaApiError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsTopicKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  OFFSETS_TOPIC,
  OFFSETS_TOPIC_SEGMENT_BYTES,
  offsetsPartitionFor,
  type GroupMetadataValue,
  type OffsetCommitValue,
} from '../shared/offsets-topic-format.js';
import { ErrorCodes } from '../shared/protocol/index.js';
import { batchSizeUpperBoundInBytes, RecordBatchBuilder, readRecords, scanBatches } from '../shared/record-batch/index.js';
import { ClassicGroup, GroupMember, GroupState } from './group.js';
import { EARLIEST_TIMESTAMP, type AppendResult, type ReplicaManager } from './replica-manager.js';

export interface GroupMetadataManagerOptions {
  /** offsets.topic.num.partitions: used when the topic is created; an existing topic keeps its count. */
  offsetsTopicNumPartitions: number;
  /** offsets.commit.timeout.ms: how long a write may take before it is answered REQUEST_TIMED_OUT. */
  commitTimeoutMs: number;
}

/** One committed offset to write: the value, for a topic-partition. */
export interface OffsetToStore extends OffsetCommitValue {
  topic: string;
  partition: number;
}

export interface StoreResult {
  errorCode: number;
  /** The offset of the written batch in __consumer_offsets (-1 on error). */
  recordOffset: number;
}

/** Bytes read from the log per step of the replay. */
const LOAD_BUFFER_BYTES = 5 << 20;

interface OffsetsRecord {
  key: Uint8Array;
  value: Uint8Array | null;
}

export class GroupMetadataManager {
  readonly #replicas: ReplicaManager;
  readonly #options: GroupMetadataManagerOptions;
  readonly #logger: Logger;
  /** Writes waiting for the log writer, so that close() can answer them and clear their timers. */
  readonly #pending = new Set<{ timer: NodeJS.Timeout; settle: (errorCode: number) => void }>();
  #creating: Promise<void> | undefined;
  #closed = false;

  constructor(replicas: ReplicaManager, options: GroupMetadataManagerOptions, logger: Logger) {
    this.#replicas = replicas;
    this.#options = options;
    this.#logger = logger;
    // Kafka's offsets topic is compacted, never deleted by retention; its segments are smaller.
    replicas.overrideTopicConfig(OFFSETS_TOPIC, { retentionMs: -1, retentionBytes: -1, segmentBytes: OFFSETS_TOPIC_SEGMENT_BYTES });
  }

  partitionCount(): number {
    return this.#replicas.partitionCount(OFFSETS_TOPIC) ?? this.#options.offsetsTopicNumPartitions;
  }

  /** The partition of __consumer_offsets that holds this group. */
  partitionFor(groupId: string): number {
    return offsetsPartitionFor(groupId, this.partitionCount());
  }

  /** Creates the topic on first use (as Kafka does on the first FindCoordinator); once, however many ask. */
  ensureTopic(): Promise<void> {
    // While it is being created the topic already counts some partitions: wait for all of them.
    if (this.#creating !== undefined) return this.#creating;
    if (this.#replicas.partitionCount(OFFSETS_TOPIC) !== undefined) return Promise.resolve();
    this.#creating = this.#replicas.createTopic(OFFSETS_TOPIC, this.#options.offsetsTopicNumPartitions).then(
      ({ errorCode, errorMessage }) => {
        this.#creating = undefined;
        // Someone else (a CreateTopics or an auto-creating Metadata) may have been first: fine.
        if (errorCode !== ErrorCodes.NONE && errorCode !== ErrorCodes.TOPIC_ALREADY_EXISTS) {
          throw new Error(`cannot create ${OFFSETS_TOPIC}: ${errorMessage ?? `error code ${errorCode}`}`);
        }
      },
      (error: unknown) => {
        this.#creating = undefined;
        throw error;
      },
    );
    return this.#creating;
  }

  /** Reads the whole topic back: every group with its last stored metadata and its committed offsets. */
  async load(nowMs = Date.now()): Promise<Map<string, ClassicGroup>> {
    const metadata = new Map<string, GroupMetadataValue | null>();
    // Committed offsets are gathered in groups of their own first: a group's metadata may come later.
    const committed = new Map<string, ClassicGroup>();
    const offsetsOf = (groupId: string): ClassicGroup => {
      let group = committed.get(groupId);
      if (group === undefined) committed.set(groupId, group = new ClassicGroup(groupId, GroupState.EMPTY, nowMs));
      return group;
    };
    const partitions = this.#replicas.partitionCount(OFFSETS_TOPIC) ?? 0;
    let records = 0;
    for (let partition = 0; partition < partitions; partition++) {
      for await (const { key: keyBytes, value, offset } of this.#readPartition(partition)) {
        if (keyBytes === null) continue;
        const key = decodeOffsetsTopicKey(keyBytes);
        records++;
        if (key === null) {
          this.#logger.warn({ partition, offset }, `${OFFSETS_TOPIC}: skipping a record of an unknown type`);
        } else if (key.type === 'group') {
          metadata.set(key.group, value === null ? null : decodeGroupMetadataValue(value));
        } else if (value === null) {
          offsetsOf(key.group).removeOffset(key.topic, key.partition);
        } else {
          offsetsOf(key.group).putOffset(key.topic, key.partition, { ...decodeOffsetCommitValue(value), recordOffset: offset });
        }
      }
    }
    const groups = new Map<string, ClassicGroup>();
    for (const groupId of new Set([...metadata.keys(), ...committed.keys()])) {
      const stored = metadata.get(groupId);
      const group = stored === undefined || stored === null ? new ClassicGroup(groupId, GroupState.EMPTY, nowMs) : restoreGroup(groupId, stored, nowMs);
      for (const [topic, byPartition] of committed.get(groupId)?.offsets ?? []) {
        for (const [partition, committed] of byPartition) group.putOffset(topic, partition, committed);
      }
      // A tombstoned group with no offsets left is gone.
      if (stored === null && !group.hasOffsets()) continue;
      groups.set(groupId, group);
    }
    if (partitions > 0) this.#logger.info({ records, groups: groups.size }, `${OFFSETS_TOPIC} loaded`);
    return groups;
  }

  /** Writes committed offsets in one batch (all or none), answered once written. */
  storeOffsets(groupId: string, entries: readonly OffsetToStore[]): Promise<StoreResult> {
    return this.#append(groupId, entries.map((e) => ({ key: encodeOffsetCommitKey(groupId, e.topic, e.partition), value: encodeOffsetCommitValue(e) })), 'offsets');
  }

  /** Writes a group's generation, protocol, leader and members with their assignments. */
  storeGroup(group: ClassicGroup, assignments: ReadonlyMap<string, Uint8Array>, nowMs = Date.now()): Promise<StoreResult> {
    const protocol = group.protocolName;
    const value: GroupMetadataValue = {
      protocolType: group.protocolType ?? '',
      generationId: group.generationId,
      protocolName: protocol,
      leaderId: group.leaderId,
      currentStateTimestampMs: nowMs,
      members: protocol === null ? [] : [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        subscription: m.metadata(protocol),
        assignment: assignments.get(m.memberId) ?? new Uint8Array(0),
      })),
    };
    return this.#append(group.groupId, [{ key: encodeGroupMetadataKey(group.groupId), value: encodeGroupMetadataValue(value) }], 'group');
  }

  /** Answers writes still waiting with NOT_COORDINATOR (as Kafka does when it unloads) and stops taking new ones. */
  close(): void {
    this.#closed = true;
    for (const pending of [...this.#pending]) pending.settle(ErrorCodes.NOT_COORDINATOR);
  }

  async #append(groupId: string, records: readonly OffsetsRecord[], kind: 'offsets' | 'group'): Promise<StoreResult> {
    if (this.#closed) return { errorCode: ErrorCodes.NOT_COORDINATOR, recordOffset: -1 };
    try {
      await this.ensureTopic();
    } catch (error) {
      this.#logger.error({ err: error }, `cannot create ${OFFSETS_TOPIC}`);
      return { errorCode: ErrorCodes.COORDINATOR_NOT_AVAILABLE, recordOffset: -1 };
    }
    const nowMs = Date.now();
    let size = 0;
    for (const r of records) size += batchSizeUpperBoundInBytes(r.key, r.value, []);
    const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(size) });
    for (const r of records) builder.tryAppend({ timestamp: nowMs, key: r.key, value: r.value });
    const partition = this.partitionFor(groupId);
    let result: AppendResult;
    try {
      result = this.#replicas.append(OFFSETS_TOPIC, partition, builder.build());
    } catch (error) {
      // The log writer's backlog is full: retriable, as a coordinator that cannot write is.
      this.#logger.warn({ err: error, groupId }, `${OFFSETS_TOPIC} append refused`);
      return { errorCode: ErrorCodes.COORDINATOR_NOT_AVAILABLE, recordOffset: -1 };
    }
    if (result.errorCode !== ErrorCodes.NONE) return { errorCode: appendErrorFor(result.errorCode, kind), recordOffset: -1 };
    const errorCode = await new Promise<number>((resolve) => {
      const pending = {
        timer: setTimeout(() => pending.settle(ErrorCodes.REQUEST_TIMED_OUT), this.#options.commitTimeoutMs),
        settle: (code: number): void => {
          if (!this.#pending.delete(pending)) return;
          clearTimeout(pending.timer);
          resolve(code);
        },
      };
      this.#pending.add(pending);
      // An acknowledgement may carry a failure (a KafkaApiError) instead of success.
      void result.acknowledged.then((outcome: unknown) => pending.settle(outcome instanceof KafkaApiError ? outcome.errorCode : ErrorCodes.NONE));
    });
    return { errorCode: errorCode === ErrorCodes.NONE ? ErrorCodes.NONE : appendErrorFor(errorCode, kind), recordOffset: errorCode === ErrorCodes.NONE ? result.baseOffset : -1 };
  }

  /** Every record of one partition, from its log start to its high watermark. */
  async *#readPartition(partition: number): AsyncGenerator<{ key: Uint8Array | null; value: Uint8Array | null; offset: number }> {
    let offset = (await this.#replicas.listOffset(OFFSETS_TOPIC, partition, EARLIEST_TIMESTAMP)).offset;
    for (;;) {
      const fetched = await this.#replicas.fetch(OFFSETS_TOPIC, partition, offset, LOAD_BUFFER_BYTES);
      if (fetched.errorCode !== ErrorCodes.NONE) throw new Error(`cannot read ${OFFSETS_TOPIC}-${partition} at ${offset}: error code ${fetched.errorCode}`);
      if (fetched.records === null || fetched.records.length === 0) return;
      for (const batch of scanBatches(fetched.records)) {
        if (!batch.isControl) {
          for (const record of readRecords(batch)) yield { key: record.key, value: record.value, offset: record.offset };
        }
        offset = batch.lastOffset + 1;
      }
    }
  }
}

/** A group as stored: Stable with its members when it had any, else Empty (Kafka's loadGroup). */
function restoreGroup(groupId: string, stored: GroupMetadataValue, nowMs: number): ClassicGroup {
  const group = new ClassicGroup(groupId, stored.members.length > 0 ? GroupState.STABLE : GroupState.EMPTY, stored.currentStateTimestampMs >= 0 ? stored.currentStateTimestampMs : nowMs);
  group.generationId = stored.generationId;
  group.protocolType = stored.protocolType === '' ? null : stored.protocolType;
  group.protocolName = stored.protocolName;
  group.leaderId = stored.leaderId;
  for (const m of stored.members) {
    const member = new GroupMember({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      protocolType: stored.protocolType,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      sessionTimeoutMs: m.sessionTimeoutMs,
      protocols: [{ name: stored.protocolName ?? '', metadata: m.subscription }],
    });
    member.assignment = m.assignment;
    group.members.set(member.memberId, member);
  }
  return group;
}

/** Kafka's mapping of a failed append to what a commit (or a SyncGroup's store) answers. */
function appendErrorFor(errorCode: number, kind: 'offsets' | 'group'): number {
  if (errorCode === ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION || errorCode === ErrorCodes.NOT_ENOUGH_REPLICAS) return ErrorCodes.COORDINATOR_NOT_AVAILABLE;
  if (errorCode === ErrorCodes.REQUEST_TIMED_OUT) return kind === 'group' ? ErrorCodes.COORDINATOR_NOT_AVAILABLE : errorCode;
  if (errorCode === ErrorCodes.MESSAGE_TOO_LARGE || errorCode === ErrorCodes.RECORD_LIST_TOO_LARGE || errorCode === ErrorCodes.INVALID_FETCH_SIZE) {
    return kind === 'offsets' ? ErrorCodes.INVALID_COMMIT_OFFSET_SIZE : ErrorCodes.UNKNOWN_SERVER_ERROR;
  }
  return errorCode;
}
