import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/shared/errors.js';
import { choosePartition, partitionForKey, StickyPartitioner } from '../../src/shared/partitioner.js';

const require = createRequire(import.meta.url);
const { Partitioners } = require('kafkajs') as { Partitioners: { DefaultPartitioner: () => (args: Record<string, unknown>) => number } };

/** A random source that returns the given values in turn. */
const sequence = (...values: number[]) => { let i = 0; return () => values[i++ % values.length]!; };

describe('partitioning', () => {
  it.each([
    ['21', 0, 0], ['foobar', 0, 6], ['a-little-bit-long-string', 2, 2], ['a-little-bit-longer-string', 2, 9],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', 2, 7],
  ])("puts key '%s' where the Java client does (%i of 3, %i of 10)", (key, of3, of10) => {
    expect(partitionForKey(Buffer.from(key), 3)).toBe(of3);
    expect(partitionForKey(Buffer.from(key), 10)).toBe(of10);
  });

  it("agrees with KafkaJS's Java-compatible default partitioner on random keys", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.integer({ min: 1, max: 200 }), (key, n) => {
      const partitionMetadata = Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0 }));
      expect(partitionForKey(key, n)).toBe(kafkajs({ topic: 't', partitionMetadata, message: { key: Buffer.from(key) } }));
    }));
  });

  it('sticks to one partition until batch.size bytes went to it and its batch is ready', () => {
    const sticky = new StickyPartitioner(1_000, { random: sequence(0.1, 0.6) });
    const p = sticky.partition('t', 10);
    expect(p).toBe(1);
    sticky.recordAppended('t', p, 600, false, 10);
    sticky.recordAppended('t', p, 600, false, 10); // 1,200 bytes but the batch is not ready: stay
    expect(sticky.partition('t', 10)).toBe(1);
    sticky.recordAppended('t', p, 100, true, 10); // ready now: move
    expect(sticky.partition('t', 10)).toBe(6);
  });

  it('moves at twice batch.size even if the batch never says ready', () => {
    const sticky = new StickyPartitioner(1_000, { random: sequence(0, 0.5) });
    sticky.partition('t', 4);
    for (let i = 0; i < 19; i++) sticky.recordAppended('t', 0, 100, false, 4);
    expect(sticky.partition('t', 4)).toBe(0);
    sticky.recordAppended('t', 0, 100, false, 4);
    expect(sticky.partition('t', 4)).toBe(2);
  });

  it('prefers partitions with shorter queues when adaptive, and is uniform when queues are equal', () => {
    // Queues [5, 0, 5]: weights 1, 6, 1 of 8.
    const picks = [0, 1 / 8, 6 / 8, 7 / 8].map((r) => new StickyPartitioner(100, { random: () => r }).partition('t', 3, [5, 0, 5]));
    expect(picks).toEqual([0, 1, 1, 2]);
    expect(new StickyPartitioner(100, { random: () => 0.99 }).partition('t', 3, [2, 2, 2])).toBe(2);
    expect(new StickyPartitioner(100, { adaptive: false, random: () => 0 }).partition('t', 3, [5, 0, 5])).toBe(0);
  });

  it("follows Kafka's precedence: explicit partition, custom partitioner, key, sticky", () => {
    const sticky = new StickyPartitioner(100, { random: () => 0.5 });
    const key = Buffer.from('foobar');
    expect(choosePartition('t', 3, key, null, 10, { ignoreKeys: false, sticky })).toBe(3);
    expect(choosePartition('t', undefined, key, null, 10, { custom: () => 9, ignoreKeys: false, sticky })).toBe(9);
    expect(choosePartition('t', undefined, key, null, 10, { ignoreKeys: false, sticky })).toBe(6);
    expect(choosePartition('t', undefined, key, null, 10, { ignoreKeys: true, sticky })).toBe(5);
    expect(choosePartition('t', undefined, null, null, 10, { ignoreKeys: false, sticky })).toBe(5);
    expect(() => choosePartition('t', 10, key, null, 10, { ignoreKeys: false, sticky })).toThrow('partition 10 is not one of topic t\'s 10 partitions');
    expect(() => choosePartition('t', undefined, key, null, 10, { custom: () => -1, ignoreKeys: false, sticky })).toThrow(ConfigError);
  });
});
