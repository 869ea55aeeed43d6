/**
 * The records of Kafka's `__consumer_offsets` topic, byte for byte: each record key and value is
 * an int16 version followed by a fixed struct (the JSON schemas in Kafka's
 * group-coordinator/src/main/resources/common/message/, written here as codec tables):
 *
 *   key version 0 or 1  OffsetCommitKey    group, topic, partition          (Kafka writes 1)
 *   key version 2       GroupMetadataKey   group
 *   OffsetCommitValue   v0-4: offset, leaderEpoch (v3+), metadata, commitTimestamp,
 *                       expireTimestamp (v1 only)                        (Kafka writes 3, or 1 with an expiry)
 *   GroupMetadataValue  v0-4: protocolType, generation, protocol, leader, currentStateTimestamp (v2+),
 *                       members (memberId, groupInstanceId v3+, clientId, clientHost,
 *                       rebalanceTimeout v1+, sessionTimeout, subscription, assignment)  (Kafka writes 3)
 *
 * A null value (a tombstone) deletes the key. Versions 4 are flexible (compact strings, tagged
 * fields); they are read, never written, as Kafka 3.x does. Also here: which partition of the topic
 * holds a group, by Java's String.hashCode as Kafka computes it.
 */
import { CorruptRecordError } from './errors.js';
import { asBuffer, messageCodec } from './protocol/codec.js';
import { OPEN_VERSION as OPEN, type MessageSchema } from './protocol/schema.js';
import { Reader, Writer } from './protocol/types.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

/** Kafka's offsets.topic.segment.bytes default: the offsets topic rolls sooner than data topics. */
export const OFFSETS_TOPIC_SEGMENT_BYTES = 104_857_600;

const OFFSET_COMMIT_KEY_VERSION = 1;
const GROUP_METADATA_KEY_VERSION = 2;
const OFFSET_COMMIT_VALUE_VERSION = 3;
/** The only OffsetCommitValue version with an expireTimestamp. */
const OFFSET_COMMIT_VALUE_WITH_EXPIRY_VERSION = 1;
const GROUP_METADATA_VALUE_VERSION = 3;

const OFFSET_COMMIT_KEY: MessageSchema = {
  name: 'OffsetCommitKey', kind: 'data', validVersions: [0, 1], flexibleVersions: null,
  fields: [
    { name: 'group', type: 'string', versions: [0, OPEN] },
    { name: 'topic', type: 'string', versions: [0, OPEN] },
    { name: 'partition', type: 'int32', versions: [0, OPEN] },
  ],
};

const GROUP_METADATA_KEY: MessageSchema = {
  name: 'GroupMetadataKey', kind: 'data', validVersions: [2, 2], flexibleVersions: null,
  fields: [{ name: 'group', type: 'string', versions: [0, OPEN] }],
};

const OFFSET_COMMIT_VALUE: MessageSchema = {
  name: 'OffsetCommitValue', kind: 'data', validVersions: [0, 4], flexibleVersions: [4, OPEN],
  fields: [
    { name: 'offset', type: 'int64', versions: [0, OPEN] },
    { name: 'leaderEpoch', type: 'int32', versions: [3, OPEN], default: -1 },
    { name: 'metadata', type: 'string', versions: [0, OPEN] },
    { name: 'commitTimestamp', type: 'int64', versions: [0, OPEN] },
    { name: 'expireTimestamp', type: 'int64', versions: [1, 1], default: -1n },
  ],
};

const GROUP_METADATA_VALUE: MessageSchema = {
  name: 'GroupMetadataValue', kind: 'data', validVersions: [0, 4], flexibleVersions: [4, OPEN],
  fields: [
    { name: 'protocolType', type: 'string', versions: [0, OPEN] },
    { name: 'generation', type: 'int32', versions: [0, OPEN] },
    { name: 'protocol', type: 'string', versions: [0, OPEN], nullableVersions: [0, OPEN] },
    { name: 'leader', type: 'string', versions: [0, OPEN], nullableVersions: [0, OPEN] },
    { name: 'currentStateTimestamp', type: 'int64', versions: [2, OPEN], default: -1n },
    { name: 'members', type: 'array', items: 'struct', structName: 'MemberMetadata', versions: [0, OPEN], fields: [
      { name: 'memberId', type: 'string', versions: [0, OPEN] },
      { name: 'groupInstanceId', type: 'string', versions: [3, OPEN], nullableVersions: [3, OPEN], default: null },
      { name: 'clientId', type: 'string', versions: [0, OPEN] },
      { name: 'clientHost', type: 'string', versions: [0, OPEN] },
      { name: 'rebalanceTimeout', type: 'int32', versions: [1, OPEN] },
      { name: 'sessionTimeout', type: 'int32', versions: [0, OPEN] },
      { name: 'subscription', type: 'bytes', versions: [0, OPEN] },
      { name: 'assignment', type: 'bytes', versions: [0, OPEN] },
    ] },
  ],
};

export interface OffsetCommitValue {
  offset: number;
  /** -1 when unknown. */
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
  /** Only OffsetCommit v2-4 with a retention time set one. */
  expireTimestampMs: number | null;
}

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  /** The member's metadata for the group's protocol. */
  subscription: Uint8Array;
  assignment: Uint8Array;
}

export interface GroupMetadataValue {
  protocolType: string;
  generationId: number;
  protocolName: string | null;
  leaderId: string | null;
  currentStateTimestampMs: number;
  members: StoredMember[];
}

/** A decoded record key: what the value that goes with it describes. */
export type OffsetsTopicKey =
  | { type: 'offset'; group: string; topic: string; partition: number }
  | { type: 'group'; group: string };

function encodeVersioned(schema: MessageSchema, version: number, body: Record<string, unknown>): Buffer {
  const codec = messageCodec(schema, version);
  const buf = Buffer.allocUnsafe(2 + codec.size(body));
  buf.writeInt16BE(version, 0);
  const w = new Writer(buf, 2);
  codec.write(w, body);
  return buf;
}

/** The version prefix and the struct after it; a version outside the schema's is a CorruptRecordError. */
function decodeVersioned(schema: MessageSchema, bytes: Uint8Array): Record<string, unknown> {
  const buf = asBuffer(bytes);
  if (buf.length < 2) throw new CorruptRecordError(`${schema.name}: ${buf.length} bytes are too short for a version`);
  const version = buf.readInt16BE(0);
  if (version < schema.validVersions[0] || version > schema.validVersions[1]) {
    throw new CorruptRecordError(`${schema.name}: unknown version ${version}`);
  }
  return messageCodec(schema, version).read(new Reader(buf, 2, buf.length));
}

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return encodeVersioned(OFFSET_COMMIT_KEY, OFFSET_COMMIT_KEY_VERSION, { group, topic, partition });
}

export function encodeGroupMetadataKey(group: string): Buffer {
  return encodeVersioned(GROUP_METADATA_KEY, GROUP_METADATA_KEY_VERSION, { group });
}

/**
 * Reads a record key; null for a key version this broker does not know, which the loader skips
 * (KIP-915: unknown record types are ignored so that a downgrade can read a newer log).
 */
export function decodeOffsetsTopicKey(bytes: Uint8Array): OffsetsTopicKey | null {
  const buf = asBuffer(bytes);
  if (buf.length < 2) throw new CorruptRecordError(`__consumer_offsets key: ${buf.length} bytes are too short for a version`);
  const version = buf.readInt16BE(0);
  if (version === 0 || version === 1) {
    const body = messageCodec(OFFSET_COMMIT_KEY, version).read(new Reader(buf, 2, buf.length));
    return { type: 'offset', group: body.group as string, topic: body.topic as string, partition: body.partition as number };
  }
  if (version === GROUP_METADATA_KEY_VERSION) return { type: 'group', group: decodeVersioned(GROUP_METADATA_KEY, buf).group as string };
  return null;
}

export function encodeOffsetCommitValue(value: OffsetCommitValue): Buffer {
  const version = value.expireTimestampMs === null ? OFFSET_COMMIT_VALUE_VERSION : OFFSET_COMMIT_VALUE_WITH_EXPIRY_VERSION;
  return encodeVersioned(OFFSET_COMMIT_VALUE, version, {
    offset: BigInt(value.offset),
    leaderEpoch: value.leaderEpoch,
    metadata: value.metadata,
    commitTimestamp: BigInt(value.commitTimestampMs),
    expireTimestamp: BigInt(value.expireTimestampMs ?? -1),
  });
}

export function decodeOffsetCommitValue(bytes: Uint8Array): OffsetCommitValue {
  const body = decodeVersioned(OFFSET_COMMIT_VALUE, bytes);
  const expire = Number(body.expireTimestamp as bigint);
  return {
    offset: Number(body.offset as bigint),
    leaderEpoch: body.leaderEpoch as number,
    metadata: body.metadata as string,
    commitTimestampMs: Number(body.commitTimestamp as bigint),
    expireTimestampMs: expire === -1 ? null : expire,
  };
}

export function encodeGroupMetadataValue(value: GroupMetadataValue): Buffer {
  return encodeVersioned(GROUP_METADATA_VALUE, GROUP_METADATA_VALUE_VERSION, {
    protocolType: value.protocolType,
    generation: value.generationId,
    protocol: value.protocolName,
    leader: value.leaderId,
    currentStateTimestamp: BigInt(value.currentStateTimestampMs),
    members: value.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeout: m.rebalanceTimeoutMs,
      sessionTimeout: m.sessionTimeoutMs,
      subscription: m.subscription,
      assignment: m.assignment,
    })),
  });
}

export function decodeGroupMetadataValue(bytes: Uint8Array): GroupMetadataValue {
  const body = decodeVersioned(GROUP_METADATA_VALUE, bytes);
  return {
    protocolType: body.protocolType as string,
    generationId: body.generation as number,
    protocolName: body.protocol as string | null,
    leaderId: body.leader as string | null,
    currentStateTimestampMs: Number(body.currentStateTimestamp as bigint),
    members: (body.members as Record<string, unknown>[]).map((m) => ({
      memberId: m.memberId as string,
      groupInstanceId: m.groupInstanceId as string | null,
      clientId: m.clientId as string,
      clientHost: m.clientHost as string,
      // v0 had no rebalance timeout: Kafka then takes the session timeout.
      rebalanceTimeoutMs: (m.rebalanceTimeout as number) > 0 ? (m.rebalanceTimeout as number) : (m.sessionTimeout as number),
      sessionTimeoutMs: m.sessionTimeout as number,
      // Copied: the decoded bytes are views of a fetch buffer.
      subscription: Uint8Array.from(m.subscription as Uint8Array),
      assignment: Uint8Array.from(m.assignment as Uint8Array),
    })),
  };
}

/** Java's String.hashCode: over UTF-16 code units, wrapping at 32 bits. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's partitionFor: `Utils.abs(groupId.hashCode) % partitions`, where abs(MIN_VALUE) is 0. */
export function offsetsPartitionFor(groupId: string, partitions: number): number {
  const hash = javaStringHashCode(groupId);
  return (hash === -2147483648 ? 0 : Math.abs(hash)) % partitions;
}
