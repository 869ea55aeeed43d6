import { describe, expect, it } from 'vitest';
import { resolveConsumerOptions } from '../../src/shared/consumer-config.js';
import { ConfigError } from '../../src/shared/errors.js';
import { deserializer } from '../../src/shared/serializers.js';
import { memoryLogger } from '../actors/helpers.js';

describe('consumer options', () => {
  it("has Kafka's defaults", () => {
    expect(resolveConsumerOptions({})).toMatchObject({
      groupId: null, enableAutoCommit: true, autoCommitIntervalMs: 5_000, autoOffsetReset: 'latest', fetchMinBytes: 1,
      fetchMaxBytes: 52_428_800, fetchMaxWaitMs: 500, maxPartitionFetchBytes: 1_048_576, maxPollRecords: 500,
      heartbeatIntervalMs: 3_000, sessionTimeoutMs: 45_000, maxPollIntervalMs: 300_000,
      partitionAssignmentStrategy: ['range', 'cooperative-sticky'], requestTimeoutMs: 30_000, defaultApiTimeoutMs: 60_000, clientId: '',
    });
  });

  it("takes Kafka's names, camelCase and Java assignor class names", () => {
    expect(resolveConsumerOptions({ 'group.id': 'g', maxPollRecords: '10', 'partition.assignment.strategy': 'org.apache.kafka.clients.consumer.RoundRobinAssignor, cooperative-sticky' }))
      .toMatchObject({ groupId: 'g', maxPollRecords: 10, partitionAssignmentStrategy: ['roundrobin', 'cooperative-sticky'] });
  });

  it('names the key of a bad value or a bad combination; warns about unknown keys', () => {
    expect(() => resolveConsumerOptions({ 'max.poll.records': 0 })).toThrow('max.poll.records: must be between 1 and');
    expect(() => resolveConsumerOptions({ 'auto.offset.reset': 'smallest' })).toThrow(ConfigError);
    expect(() => resolveConsumerOptions({ 'heartbeat.interval.ms': 10_000, 'session.timeout.ms': 10_000 })).toThrow('heartbeat.interval.ms: must be lower than session.timeout.ms (10000), got 10000');
    expect(() => resolveConsumerOptions({ 'request.timeout.ms': 400 })).toThrow('request.timeout.ms: must be above fetch.max.wait.ms (500)');
    expect(() => resolveConsumerOptions({ 'partition.assignment.strategy': 'range,range' })).toThrow('names an assignor twice');
    expect(() => resolveConsumerOptions({ 'group.id': 7 })).toThrow('group.id: must be a string, got 7');
    const { logger, lines } = memoryLogger();
    resolveConsumerOptions({ 'fetch.max.wait': 5 }, logger);
    expect(lines[0]).toMatchObject({ msg: "unknown consumer option 'fetch.max.wait' ignored" });
  });

  it('deserializes as bytes by default, or as strings, JSON or with a function', () => {
    const bytes = Buffer.from('{"a":1}');
    expect(deserializer(undefined, 'value')).toBeNull();
    expect(deserializer('string', 'value')!(bytes, 't', [])).toBe('{"a":1}');
    expect(deserializer('json', 'value')!(bytes, 't', [])).toEqual({ a: 1 });
    expect(deserializer('json', 'value')!(null, 't', [])).toBeNull();
    expect(() => deserializer('json', 'key')!(Buffer.from('nope'), 't', [])).toThrow('key: not JSON');
    expect(() => deserializer<number>(() => { throw new Error('boom'); }, 'value')!(bytes, 't', [])).toThrow('value: the deserializer threw: boom');
    expect(() => deserializer('yaml' as 'json', 'value')).toThrow('valueDeserializer: must be');
  });
});
