import { describe, expect, it } from 'vitest';
import { CorruptRecordError } from '../../src/shared/errors.js';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsTopicKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  javaStringHashCode,
  offsetsPartitionFor,
  type GroupMetadataValue,
} from '../../src/shared/offsets-topic-format.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const int64 = (n: number): string => n.toString(16).padStart(16, '0');
const int32 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
const str = (s: string): string => Buffer.byteLength(s).toString(16).padStart(4, '0') + Buffer.from(s).toString('hex');

describe('__consumer_offsets record formats', () => {
  it('writes OffsetCommitKey v1 and GroupMetadataKey v2 as Kafka does, and reads them back', () => {
    const offsetKey = encodeOffsetCommitKey('group', 'orders', 3);
    expect(hex(offsetKey)).toBe(`0001${str('group')}${str('orders')}${int32(3)}`);
    expect(decodeOffsetsTopicKey(offsetKey)).toEqual({ type: 'offset', group: 'group', topic: 'orders', partition: 3 });
    const groupKey = encodeGroupMetadataKey('group');
    expect(hex(groupKey)).toBe(`0002${str('group')}`);
    expect(decodeOffsetsTopicKey(groupKey)).toEqual({ type: 'group', group: 'group' });
    // Version 0 keys (older brokers) have the same layout; unknown versions are skipped, not fatal.
    expect(decodeOffsetsTopicKey(Buffer.from(`0000${str('g')}${str('t')}${int32(0)}`, 'hex'))).toEqual({ type: 'offset', group: 'g', topic: 't', partition: 0 });
    expect(decodeOffsetsTopicKey(Buffer.from(`0009${str('g')}`, 'hex'))).toBeNull();
    expect(() => decodeOffsetsTopicKey(new Uint8Array([0]))).toThrow(CorruptRecordError);
  });

  it('writes OffsetCommitValue v3, or v1 when the commit expires, and reads v0-v4', () => {
    const value = { offset: 5, leaderEpoch: 2, metadata: 'm', commitTimestampMs: 1_000, expireTimestampMs: null };
    const v3 = encodeOffsetCommitValue(value);
    expect(hex(v3)).toBe(`0003${int64(5)}${int32(2)}${str('m')}${int64(1_000)}`);
    expect(decodeOffsetCommitValue(v3)).toEqual(value);
    const v1 = encodeOffsetCommitValue({ ...value, expireTimestampMs: 9_000 });
    expect(hex(v1)).toBe(`0001${int64(5)}${str('m')}${int64(1_000)}${int64(9_000)}`);
    expect(decodeOffsetCommitValue(v1)).toEqual({ ...value, leaderEpoch: -1, expireTimestampMs: 9_000 });
    expect(decodeOffsetCommitValue(Buffer.from(`0000${int64(5)}${str('m')}${int64(1_000)}`, 'hex'))).toEqual({ ...value, leaderEpoch: -1 });
    // v4 is flexible (Kafka 4): a compact string and an empty tagged-field section.
    expect(decodeOffsetCommitValue(Buffer.from(`0004${int64(5)}${int32(2)}026d${int64(1_000)}00`, 'hex'))).toEqual(value);
    expect(() => decodeOffsetCommitValue(Buffer.from(`0005${int64(5)}`, 'hex'))).toThrow(CorruptRecordError);
  });

  it('writes GroupMetadataValue v3 and reads it back; v0 members take the session timeout as rebalance timeout', () => {
    const value: GroupMetadataValue = {
      protocolType: 'consumer',
      generationId: 4,
      protocolName: 'range',
      leaderId: 'a-1',
      currentStateTimestampMs: 1_700_000_000_000,
      members: [{ memberId: 'a-1', groupInstanceId: null, clientId: 'a', clientHost: '/embedded', rebalanceTimeoutMs: 30_000, sessionTimeoutMs: 10_000, subscription: new Uint8Array([1, 2]), assignment: new Uint8Array([3]) }],
    };
    const bytes = encodeGroupMetadataValue(value);
    expect(bytes.readInt16BE(0)).toBe(3);
    expect(decodeGroupMetadataValue(bytes)).toEqual(value);
    const empty = { ...value, protocolName: null, leaderId: null, members: [] };
    expect(decodeGroupMetadataValue(encodeGroupMetadataValue(empty))).toEqual(empty);
    const member = `${str('a-1')}${str('a')}${str('/h')}${int32(6_000)}${int32(1)}07${int32(0)}`;
    const v0 = Buffer.from(`0000${str('consumer')}${int32(1)}${str('range')}${str('a-1')}${int32(1)}${member}`, 'hex');
    expect(decodeGroupMetadataValue(v0)).toMatchObject({ generationId: 1, currentStateTimestampMs: -1, members: [{ memberId: 'a-1', clientHost: '/h', rebalanceTimeoutMs: 6_000, sessionTimeoutMs: 6_000, groupInstanceId: null }] });
  });

  it('puts a group in partition abs(String.hashCode) % n, as Kafka does', () => {
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('a')).toBe(97);
    expect(javaStringHashCode('hello')).toBe(99_162_322);
    expect(javaStringHashCode('Aa')).toBe(javaStringHashCode('BB'));
    expect(javaStringHashCode('😀')).toBe(31 * 0xd83d + 0xde00); // UTF-16 code units, as Java
    expect(javaStringHashCode('consumer-group-with-a-long-name')).toBeLessThan(0); // wraps at 32 bits
    // Java's famous Integer.MIN_VALUE hash: Utils.abs maps it to 0.
    expect(javaStringHashCode('polygenelubricants')).toBe(-2_147_483_648);
    expect(offsetsPartitionFor('polygenelubricants', 50)).toBe(0);
    expect(offsetsPartitionFor('hello', 50)).toBe(99_162_322 % 50);
    const negative = javaStringHashCode('consumer-group-with-a-long-name');
    expect(offsetsPartitionFor('consumer-group-with-a-long-name', 50)).toBe(Math.abs(negative) % 50);
  });
});
