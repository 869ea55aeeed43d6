import { describe, expect, it } from 'vitest';
import {
  ActorError, ChannelClosedError, ConfigError, CorruptRecordError, EscalationError, FrameTooLargeError, IllegalStateError,
  KafkaApiError, MailboxFullError, ProtocolError, RecordTooLargeError, RinglogError, SerializationError, TimeoutError, UnsupportedCompressionError, WorkerExitedError, errorFromWire, errorToWire,
  CommitFailedError, InvalidArgumentError, InvalidGroupIdError, PartitionOffsetError, ResourceError,
} from '../../src/shared/errors.js';

/** Crosses a thread boundary the way errors do: to plain data, cloned, and back. */
const roundTrip = (error: unknown): RinglogError => errorFromWire(structuredClone(errorToWire(error)));

describe('errors across threads', () => {
  it.each([
    new ConfigError('linger.ms', 'must be a non-negative integer'),
    new TimeoutError('ERR_ASK_TIMEOUT', 'ask to counter#1 got no answer', 250),
    new WorkerExitedError('worker w exited'),
    new CorruptRecordError('batch at 0: CRC mismatch'),
    new ProtocolError('ProduceRequest v9: truncated'),
    new IllegalStateError('closed'),
    new ChannelClosedError('closed'),
    new FrameTooLargeError('too big'),
    new EscalationError('gave up'),
    new MailboxFullError('full'),
    new UnsupportedCompressionError(2, 'no codec is registered for compression snappy (2)'),
    new KafkaApiError(3, 'UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition.', true),
    new RecordTooLargeError('max.request.size', 'the record is 2000000 bytes'),
    new SerializationError('value: cannot serialize a number'),
    new InvalidGroupIdError('subscribe() needs a group.id'),
    new PartitionOffsetError('ERR_NO_OFFSET_FOR_PARTITION', ['orders-0', 'orders-1'], 'no committed offset for orders-0, orders-1'),
    new PartitionOffsetError('ERR_OFFSET_OUT_OF_RANGE', ['orders-2'], 'offset 9 of orders-2 is out of range'),
    new CommitFailedError('the group refused the commit'),
    new ResourceError('topic', 'orders', new KafkaApiError(36, 'TOPIC_ALREADY_EXISTS', "topic 'orders' already exists", false)),
    new InvalidArgumentError('topics[0].numPartitions', 'must be a positive integer'),
  ])('rebuilds %s as the same class with the same code, message and fields', (original) => {
    const rebuilt = roundTrip(original);
    expect(rebuilt).toBeInstanceOf(original.constructor);
    expect(rebuilt.code).toBe(original.code);
    expect(rebuilt.message).toBe(original.message);
    expect(rebuilt.retriable).toBe(original.retriable);
    expect(rebuilt.name).toBe(original.constructor.name);
  });

  it('keeps the fields specific to a class', () => {
    expect((roundTrip(new ConfigError('acks', 'bad')) as ConfigError).key).toBe('acks');
    expect((roundTrip(new TimeoutError('ERR_X_TIMEOUT', 'x', 42)) as TimeoutError).timeoutMs).toBe(42);
    expect((roundTrip(new RecordTooLargeError('buffer.memory', 'x')) as RecordTooLargeError).setting).toBe('buffer.memory');
    const kafka = roundTrip(new KafkaApiError(6, 'NOT_LEADER_OR_FOLLOWER', 'moved', true)) as KafkaApiError;
    expect([kafka.errorCode, kafka.errorName, kafka.retriable]).toEqual([6, 'NOT_LEADER_OR_FOLLOWER', true]);
    expect((roundTrip(new PartitionOffsetError('ERR_OFFSET_OUT_OF_RANGE', ['a-0', 'b.c-12'], 'x')) as PartitionOffsetError).partitions).toEqual(['a-0', 'b.c-12']);
    const resource = roundTrip(new ResourceError('partition', 'orders-3', new KafkaApiError(3, 'UNKNOWN_TOPIC_OR_PARTITION', 'gone', true))) as ResourceError;
    expect([resource.resourceType, resource.resource, resource.errorCode, resource.errorName, resource.retriable]).toEqual(['partition', 'orders-3', 3, 'UNKNOWN_TOPIC_OR_PARTITION', true]);
    expect(resource.message).toBe("partition 'orders-3': UNKNOWN_TOPIC_OR_PARTITION (3): gone");
    expect((roundTrip(new InvalidArgumentError('groupIds', 'must not be empty')) as InvalidArgumentError).argument).toBe('groupIds');
    // An error that names the other failures of its call still serializes (no cycle through `failures`).
    const first = new ResourceError('topic', 'a', new KafkaApiError(36, 'TOPIC_ALREADY_EXISTS', 'x', false));
    first.withOthers([new ResourceError('topic', 'b/c', new KafkaApiError(17, 'INVALID_TOPIC_EXCEPTION', 'y', false))]);
    expect(first.failures.map((f) => f.resource)).toEqual(['a', 'b/c']);
    expect(JSON.parse(JSON.stringify(first))).toMatchObject({ resource: 'a', errorName: 'TOPIC_ALREADY_EXISTS' });
  });

  it('marks transient failures retriable and programming errors not', () => {
    expect(new TimeoutError('ERR_ASK_TIMEOUT', 'x', 1).retriable).toBe(true);
    expect(new WorkerExitedError('x').retriable).toBe(true);
    expect(new ConfigError('k', 'x').retriable).toBe(false);
    expect(new CorruptRecordError('x').retriable).toBe(false);
  });

  it('turns foreign errors into ActorError naming the original class', () => {
    const rebuilt = roundTrip(new RangeError('index out of range'));
    expect(rebuilt).toBeInstanceOf(ActorError);
    expect(rebuilt.message).toBe('RangeError: index out of range');
    expect(roundTrip('just a string').message).toBe('just a string');
  });

  it('keeps an unknown code instead of inventing a class', () => {
    const rebuilt = errorFromWire({ code: 'ERR_FROM_THE_FUTURE', message: 'new' });
    expect(rebuilt.constructor).toBe(RinglogError);
    expect(rebuilt.code).toBe('ERR_FROM_THE_FUTURE');
  });
});
