import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cooperativeStickyAssignor, rangeAssignor, rebalanceProtocolOf, roundRobinAssignor, type MemberSubscription, type TopicPartition,
} from '../../src/shared/assignors.js';

const member = (memberId: string, topics: string[], ownedPartitions: TopicPartition[] = [], generationId = 1): MemberSubscription => ({ memberId, topics, ownedPartitions, generationId });
const names = (list: TopicPartition[] | undefined): string[] => (list ?? []).map((tp) => `${tp.topic}${tp.partition}`);

describe('assignors', () => {
  it("range: Kafka's example (two topics of three partitions, two members)", () => {
    const result = rangeAssignor.assign(new Map([['t0', 3], ['t1', 3]]), [member('C1', ['t0', 't1']), member('C0', ['t0', 't1'])]);
    expect(names(result.get('C0'))).toEqual(['t00', 't01', 't10', 't11']);
    expect(names(result.get('C1'))).toEqual(['t02', 't12']);
  });

  it('roundrobin: deals partitions in turn, skipping members not subscribed to the topic', () => {
    const result = roundRobinAssignor.assign(new Map([['a', 3], ['b', 2]]), [member('m1', ['a', 'b']), member('m2', ['a'])]);
    expect(names(result.get('m1'))).toEqual(['a0', 'a2', 'b0', 'b1']);
    expect(names(result.get('m2'))).toEqual(['a1']);
  });

  it('cooperative-sticky: keeps what members own, balances, and holds back partitions that change owner', () => {
    const counts = new Map([['t', 6]]);
    const owned = (...ps: number[]): TopicPartition[] => ps.map((partition) => ({ topic: 't', partition }));
    const result = cooperativeStickyAssignor.assign(counts, [member('a', ['t'], owned(0, 1, 2)), member('b', ['t'], owned(3, 4, 5)), member('c', ['t'])]);
    // Two partitions must move to c: this round they are revoked from their owners and given to nobody.
    expect(names(result.get('a'))).toHaveLength(2);
    expect(names(result.get('b'))).toHaveLength(2);
    expect(result.get('c')).toEqual([]);
    // The follow-up round (owners reporting what they kept) hands them to c.
    const second = cooperativeStickyAssignor.assign(counts, [member('a', ['t'], result.get('a')!, 2), member('b', ['t'], result.get('b')!, 2), member('c', ['t'], [], 2)]);
    expect(second.get('a')).toEqual(result.get('a'));
    expect(second.get('b')).toEqual(result.get('b'));
    expect(names(second.get('c'))).toHaveLength(2);
  });

  it('cooperative-sticky: a partition claimed by two members goes with the newer generation', () => {
    const result = cooperativeStickyAssignor.assign(new Map([['t', 2]]), [
      member('a', ['t'], [{ topic: 't', partition: 0 }], 3),
      member('b', ['t'], [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }], 2),
    ]);
    expect(names(result.get('a'))).toEqual(['t0']);
    expect(names(result.get('b'))).toEqual(['t1']);
  });

  it('every assignor gives each subscribed partition to at most one member, subscribed to its topic, and balances equal subscriptions', () => {
    const arbitrary = fc.record({
      partitions: fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 3 }),
      members: fc.integer({ min: 1, max: 5 }),
    });
    fc.assert(fc.property(arbitrary, ({ partitions, members }) => {
      const counts = new Map(partitions.map((n, i) => [`t${i}`, n]));
      const topics = [...counts.keys()];
      const subscriptions = Array.from({ length: members }, (_, i) => member(`m${i}`, topics, [], -1));
      const total = partitions.reduce((a, b) => a + b, 0);
      for (const assignor of [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor]) {
        const result = assignor.assign(counts, subscriptions);
        const all = [...result.values()].flat().map((tp) => `${tp.topic}-${tp.partition}`);
        expect(new Set(all).size).toBe(all.length);
        expect(all.length).toBe(total);
        if (assignor !== rangeAssignor) {
          const sizes = [...result.values()].map((l) => l.length);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        }
      }
    }));
  });

  it("rebalances cooperatively only when every assignor listed can (Kafka's rule)", () => {
    expect(rebalanceProtocolOf(['range', 'cooperative-sticky'])).toBe('eager');
    expect(rebalanceProtocolOf(['cooperative-sticky'])).toBe('cooperative');
    expect(rebalanceProtocolOf(['roundrobin'])).toBe('eager');
  });
});
