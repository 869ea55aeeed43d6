/**
 * Kafka's error-code table: complete and unique from -1 up, names and retriable flags as Kafka
 * reports them, and kafkaError() building the typed error.
 */
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { errorFromWire, KafkaApiError } from '../../../src/shared/errors.js';
import { ErrorCodes, errorInfo, KAFKA_ERRORS, kafkaError } from '../../../src/shared/protocol/index.js';

const require = createRequire(import.meta.url);

describe('the table', () => {
  test('every code from -1 to 133 exactly once, names unique', () => {
    expect(KAFKA_ERRORS.map((e) => e.code)).toEqual(Array.from({ length: 135 }, (_, i) => i - 1));
    expect(new Set(KAFKA_ERRORS.map((e) => e.name)).size).toBe(KAFKA_ERRORS.length);
    for (const e of KAFKA_ERRORS) {
      expect(e.name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      if (e.code !== 0) expect(e.message.length).toBeGreaterThan(10);
      expect(ErrorCodes[e.name as keyof typeof ErrorCodes]).toBe(e.code);
    }
  });

  test('well-known codes and retriable flags (Kafka protocol_errors table)', () => {
    expect(ErrorCodes.NONE).toBe(0);
    expect(ErrorCodes.UNKNOWN_SERVER_ERROR).toBe(-1);
    expect(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION).toBe(3);
    expect(ErrorCodes.NOT_LEADER_OR_FOLLOWER).toBe(6);
    expect(ErrorCodes.UNSUPPORTED_VERSION).toBe(35);
    expect(ErrorCodes.TOPIC_ALREADY_EXISTS).toBe(36);
    expect(ErrorCodes.UNKNOWN_TOPIC_ID).toBe(100);
    expect(ErrorCodes.TRANSACTION_ABORTABLE).toBe(120);
    const retriable = KAFKA_ERRORS.filter((e) => e.retriable).map((e) => e.code);
    expect(retriable).toEqual([2, 3, 5, 6, 7, 9, 13, 14, 15, 16, 19, 20, 41, 51, 56, 70, 71, 72, 74, 75, 78, 80, 83, 84, 88, 89, 100, 103, 106, 122, 123, 133]);
  });

  test('names and retriable flags agree with KafkaJS for the codes it knows (-1..88)', () => {
    const { errorCodes } = require('kafkajs/src/protocol/error') as { errorCodes: { type: string; code: number; retriable: boolean }[] };
    // KafkaJS still uses the names these codes had before Kafka renamed them.
    const renamed = new Map([[-1, 'UNKNOWN'], [6, 'NOT_LEADER_FOR_PARTITION'], [14, 'GROUP_LOAD_IN_PROGRESS'], [15, 'GROUP_COORDINATOR_NOT_AVAILABLE'], [16, 'NOT_COORDINATOR_FOR_GROUP']]);
    expect(errorCodes.length).toBeGreaterThan(80);
    for (const theirs of errorCodes) {
      const ours = errorInfo(theirs.code);
      expect(ours, `code ${theirs.code}`).toBeDefined();
      expect({ code: theirs.code, name: renamed.has(theirs.code) ? renamed.get(theirs.code) : ours?.name, retriable: ours?.retriable }).toEqual({
        code: theirs.code,
        name: theirs.type,
        retriable: theirs.retriable,
      });
    }
  });
});

describe('kafkaError', () => {
  test('a known code: name, retriable, Kafka\'s message unless the broker sent one', () => {
    const err = kafkaError(ErrorCodes.NOT_COORDINATOR);
    expect(err).toBeInstanceOf(KafkaApiError);
    expect(err).toMatchObject({ errorCode: 16, errorName: 'NOT_COORDINATOR', retriable: true, code: 'ERR_KAFKA_API' });
    expect(err.message).toBe('NOT_COORDINATOR (16): This is not the correct coordinator.');
    expect(kafkaError(36, "topic 'a' already exists").message).toBe("TOPIC_ALREADY_EXISTS (36): topic 'a' already exists");
    expect(kafkaError(36, null).message).toBe('TOPIC_ALREADY_EXISTS (36): Topic with this name already exists.');
  });

  test('an unknown code keeps its number, is treated as UNKNOWN_SERVER_ERROR and not retried', () => {
    expect(kafkaError(9999)).toMatchObject({ errorCode: 9999, errorName: 'UNKNOWN_SERVER_ERROR', retriable: false });
  });

  test('survives a thread crossing', () => {
    const back = errorFromWire(kafkaError(3).toWire());
    expect(back).toBeInstanceOf(KafkaApiError);
    expect(back).toMatchObject({ errorCode: 3, errorName: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
  });

  test('NONE is not an error', () => {
    expect(() => kafkaError(0)).toThrow(RangeError);
  });
});
