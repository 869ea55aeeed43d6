import { describe, expect, it } from 'vitest';
import { logConfigOf, resolveBrokerOptions } from '../../src/shared/broker-config.js';
import { parseProperties } from '../../src/shared/config.js';
import { ConfigError } from '../../src/shared/errors.js';

describe('broker options', () => {
  it("has Kafka's defaults", () => {
    const options = resolveBrokerOptions({});
    expect(options).toMatchObject({ brokerId: 0, numPartitions: 1, autoCreateTopicsEnable: true, messageMaxBytes: 1_048_588, logSegmentBytes: 1_073_741_824 });
    expect(logConfigOf(options)).toEqual({
      segmentBytes: 1_073_741_824,
      segmentMs: 168 * 3_600_000,
      indexIntervalBytes: 4_096,
      retentionMs: 168 * 3_600_000,
      retentionBytes: -1,
      flushMessages: Number.MAX_SAFE_INTEGER,
      flushMs: Number.MAX_SAFE_INTEGER,
    });
  });

  it('reads a server.properties file, ms settings winning over hours', () => {
    const options = resolveBrokerOptions(Object.fromEntries(parseProperties([
      'broker.id=3', 'log.dirs=/var/ringlog', 'num.partitions=6', 'log.segment.bytes=1048576',
      'log.retention.hours=1', 'log.retention.bytes=10000000', 'log.roll.ms=60000', 'log.flush.interval.messages=1',
    ].join('\n'))));
    expect(options).toMatchObject({ brokerId: 3, logDirs: ['/var/ringlog'], numPartitions: 6 });
    expect(logConfigOf(options)).toMatchObject({ segmentBytes: 1_048_576, segmentMs: 60_000, retentionMs: 3_600_000, retentionBytes: 10_000_000, flushMessages: 1 });
    expect(logConfigOf(resolveBrokerOptions({ 'log.retention.ms': -1 })).retentionMs).toBe(-1);
  });

  it('takes the group coordinator\'s options by Kafka name or camelCase, with Kafka\'s defaults', () => {
    expect(resolveBrokerOptions({})).toMatchObject({
      groupInitialRebalanceDelayMs: 3_000, groupMinSessionTimeoutMs: 6_000, groupMaxSessionTimeoutMs: 1_800_000,
      offsetsTopicNumPartitions: 50, offsetsCommitTimeoutMs: 5_000,
    });
    expect(resolveBrokerOptions({ 'offsets.topic.num.partitions': '3', groupInitialRebalanceDelayMs: 0 })).toMatchObject({ offsetsTopicNumPartitions: 3, groupInitialRebalanceDelayMs: 0 });
    expect(() => resolveBrokerOptions({ 'offsets.topic.num.partitions': 0 })).toThrow('offsets.topic.num.partitions');
  });

  it('names the key of a bad value', () => {
    expect(() => resolveBrokerOptions({ 'log.segment.bytes': '1000' })).toThrow(ConfigError);
    expect(() => resolveBrokerOptions({ 'log.segment.bytes': '1000' })).toThrow('log.segment.bytes: must be between 1048576 and 2147483647, got 1000');
    expect(() => resolveBrokerOptions({ 'num.partitions': 'many' })).toThrow("num.partitions: must be an integer, got 'many'");
    expect(() => resolveBrokerOptions({ 'group.min.session.timeout.ms': 10_000, 'group.max.session.timeout.ms': 5_000 })).toThrow('group.min.session.timeout.ms');
  });
});
