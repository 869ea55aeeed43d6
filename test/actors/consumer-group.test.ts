import { describe, expect, it } from 'vitest';
import { consumerWorkers, type Consumer, type ConsumerRebalanceListener } from '../../src/actors/consumer.js';
import { WorkerExitedError } from '../../src/shared/errors.js';
import { describeGroup } from './group-members.js';
import { createTopic, pollAllUntil, pollUntil, produce, tps, useConsumerTests } from './consumers.js';

const { start, consumer } = useConsumerTests();
const key = (tp: { topic: string; partition: number }): string => `${tp.topic}-${tp.partition}`;

/** Tracks which consumer owns which partition, failing on a partition owned or read by two at once. */
class Ownership {
  readonly owners = new Map<string, number>();
  readonly calls: { consumer: number; callback: string; partitions: string[] }[] = [];
  readonly violations: string[] = [];

  listener(i: number): ConsumerRebalanceListener {
    const record = (callback: string, partitions: { topic: string; partition: number }[]): void => {
      this.calls.push({ consumer: i, callback, partitions: tps(partitions) });
    };
    return {
      onPartitionsAssigned: (partitions) => {
        record('assigned', partitions);
        for (const tp of partitions) {
          if (this.owners.has(key(tp))) this.violations.push(`${key(tp)} assigned to ${i} while ${this.owners.get(key(tp))} owns it`);
          this.owners.set(key(tp), i);
        }
      },
      onPartitionsRevoked: (partitions) => {
        record('revoked', partitions);
        for (const tp of partitions) this.owners.delete(key(tp));
      },
      onPartitionsLost: (partitions) => {
        record('lost', partitions);
        for (const tp of partitions) this.owners.delete(key(tp));
      },
    };
  }

  /** Records polled by consumer i must come from partitions it owns right now. */
  check(i: number, records: readonly { topic: string; partition: number }[]): void {
    for (const r of records) if (this.owners.get(key(r)) !== i) this.violations.push(`${key(r)} read by ${i}, owned by ${this.owners.get(key(r))}`);
  }
}

const sizes = (consumers: readonly Consumer<unknown, unknown>[]): number[] => consumers.map((c) => c.assignment().length);
const allOwned = (consumers: readonly Consumer<unknown, unknown>[], count: number): boolean =>
  new Set(consumers.flatMap((c) => tps(c.assignment()))).size === count && sizes(consumers).reduce((a, b) => a + b, 0) === count;

describe('Consumer groups', () => {
  it('range: three members of a 6-partition topic get two partitions each; a fourth joins and no partition is ever owned or read by two', async () => {
    const { cluster, client } = await start();
    await createTopic(await client(), 'orders', 6);
    await produce(cluster, 'orders', 1_200, { partitions: 6 });
    const owners = new Ownership();
    const consumers: Consumer<unknown, unknown>[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await consumer(cluster, { 'group.id': 'trio', 'max.poll.records': 5, 'client.id': `c${i}` });
      c.subscribe(['orders'], owners.listener(i));
      consumers.push(c as Consumer<unknown, unknown>);
    }
    const check = (i: number, records: readonly { topic: string; partition: number }[]): void => owners.check(i, records);
    await pollAllUntil(consumers, () => sizes(consumers).join() === '2,2,2' && allOwned(consumers, 6), 10_000, check);
    // Range lays partitions out in member-id order: each member holds two consecutive ones.
    for (const c of consumers) {
      const [a, b] = c.assignment().map((tp) => tp.partition).sort();
      expect(b! - a!).toBe(1);
    }
    const fourth = await consumer(cluster, { 'group.id': 'trio', 'max.poll.records': 5, 'client.id': 'c3' });
    fourth.subscribe(['orders'], owners.listener(3));
    consumers.push(fourth as Consumer<unknown, unknown>);
    await pollAllUntil(consumers, () => [...sizes(consumers)].sort().join() === '1,1,2,2' && allOwned(consumers, 6), 10_000, check);
    expect(owners.violations).toEqual([]);
    expect(owners.owners.size).toBe(6);
    const group = await describeGroup(await client(), 'trio');
    expect(group).toMatchObject({ groupState: 'Stable', protocolData: 'range' });
    expect(group.members).toHaveLength(4);
  });

  it('cooperative-sticky: partitions that stay put are never revoked when a member joins', async () => {
    const { cluster, client } = await start();
    await createTopic(await client(), 'sticky', 6);
    const owners = new Ownership();
    const config = { 'group.id': 'sticky', 'partition.assignment.strategy': 'cooperative-sticky' };
    const [a, b] = [await consumer(cluster, config), await consumer(cluster, config)];
    a.subscribe(['sticky'], owners.listener(0));
    b.subscribe(['sticky'], owners.listener(1));
    const consumers = [a, b] as Consumer<unknown, unknown>[];
    await pollAllUntil(consumers, () => sizes(consumers).join() === '3,3');
    const before = [tps(a.assignment()), tps(b.assignment())];
    owners.calls.length = 0;
    const c = await consumer(cluster, config);
    c.subscribe(['sticky'], owners.listener(2));
    consumers.push(c as Consumer<unknown, unknown>);
    await pollAllUntil(consumers, () => sizes(consumers).join() === '2,2,2' && allOwned(consumers, 6));
    expect(owners.violations).toEqual([]);
    // Each old member gave up exactly one partition and kept the other two throughout.
    for (const [i, member] of [a, b].entries()) {
      const revoked = owners.calls.filter((call) => call.consumer === i && call.callback === 'revoked').flatMap((call) => call.partitions);
      expect(revoked).toHaveLength(1);
      expect(tps(member.assignment())).toEqual(before[i]!.filter((p) => !revoked.includes(p)));
      expect(owners.calls.filter((call) => call.consumer === i && call.callback === 'assigned').flatMap((call) => call.partitions)).toEqual([]);
    }
  });

  it('subscribes to a pattern: every matching topic, none other', async () => {
    const { cluster, client } = await start();
    const admin = await client();
    await createTopic(admin, 'metrics-cpu', 2);
    await createTopic(admin, 'metrics-disk', 1);
    await createTopic(admin, 'logs', 1);
    const c = await consumer(cluster, { 'group.id': 'pattern' });
    c.subscribe(/^metrics-/);
    await pollUntil(c, () => c.assignment().length === 3);
    expect(tps(c.assignment())).toEqual(['metrics-cpu-0', 'metrics-cpu-1', 'metrics-disk-0']);
    expect(c.subscription()).toEqual(['metrics-cpu', 'metrics-disk']);
  });

  it('close() leaves the group at once: the partitions move without waiting for the session timeout', async () => {
    const { cluster, client } = await start();
    await createTopic(await client(), 'handover', 4);
    const config = { 'group.id': 'handover', 'session.timeout.ms': 30_000, 'heartbeat.interval.ms': 200 };
    const [a, b] = [await consumer(cluster, config), await consumer(cluster, config)];
    a.subscribe(['handover']);
    b.subscribe(['handover']);
    await pollAllUntil([a, b] as Consumer<unknown, unknown>[], () => sizes([a, b] as Consumer<unknown, unknown>[]).join() === '2,2');
    const startMs = Date.now();
    await a.close();
    await pollUntil(b, () => b.assignment().length === 4, 8_000);
    expect(Date.now() - startMs).toBeLessThan(8_000);
  });

  it('a member whose heartbeat worker dies is expelled after session.timeout.ms and its partitions move', async () => {
    const { cluster, client, lines } = await start();
    await createTopic(await client(), 'crash', 4);
    const config = { 'group.id': 'crash', 'session.timeout.ms': 600, 'heartbeat.interval.ms': 100 };
    const [a, b] = [await consumer(cluster, config), await consumer(cluster, config)];
    a.subscribe(['crash']);
    b.subscribe(['crash']);
    await pollAllUntil([a, b] as Consumer<unknown, unknown>[], () => sizes([a, b] as Consumer<unknown, unknown>[]).join() === '2,2');
    await a[consumerWorkers]().heartbeat!.terminate();
    const killedMs = Date.now();
    await pollUntil(b, () => b.assignment().length === 4, 8_000);
    expect(Date.now() - killedMs).toBeGreaterThanOrEqual(500);
    expect(lines.some((l) => l.msg === 'member session expired; removing it')).toBe(true);
    await expect(a.poll(10)).rejects.toThrow(WorkerExitedError);
    // Closing it does not wait out commit retries against the dead worker.
    const closingMs = Date.now();
    await a.close();
    expect(Date.now() - closingMs).toBeLessThan(5_000);
  });

  it('a main thread blocked longer than session.timeout.ms (but polling within max.poll.interval.ms) keeps its partitions', async () => {
    const { cluster, client, lines } = await start();
    await createTopic(await client(), 'busy', 4);
    const owners = new Ownership();
    const config = { 'group.id': 'busy', 'session.timeout.ms': 400, 'heartbeat.interval.ms': 100, 'max.poll.interval.ms': 20_000 };
    const [a, b] = [await consumer(cluster, config), await consumer(cluster, config)];
    a.subscribe(['busy'], owners.listener(0));
    b.subscribe(['busy'], owners.listener(1));
    const both = [a, b] as Consumer<unknown, unknown>[];
    await pollAllUntil(both, () => sizes(both).join() === '2,2');
    const members = (await describeGroup(await client(), 'busy')).members.map((m: { memberId: string }) => m.memberId).sort();
    const calls = owners.calls.length;
    // Both consumers' main thread is this one: block it for four session timeouts.
    const until = Date.now() + 1_600;
    while (Date.now() < until) { /* a synchronous handler hogging the event loop */ }
    for (let i = 0; i < 5; i++) await Promise.all(both.map((c) => c.poll(20)));
    expect(sizes(both)).toEqual([2, 2]);
    expect(owners.calls.length).toBe(calls);
    const group = await describeGroup(await client(), 'busy');
    expect(group.groupState).toBe('Stable');
    expect(group.members.map((m: { memberId: string }) => m.memberId).sort()).toEqual(members);
    expect(lines.some((l) => l.msg === 'member session expired; removing it')).toBe(false);
  });

  it('max.poll.interval.ms passed: the member leaves the group, and the next poll loses its partitions and rejoins', async () => {
    const { cluster, client, lines } = await start();
    await createTopic(await client(), 'slow', 2);
    const owners = new Ownership();
    const c = await consumer(cluster, { 'group.id': 'slow', 'max.poll.interval.ms': 800, 'session.timeout.ms': 1_500, 'heartbeat.interval.ms': 100 });
    c.subscribe(['slow'], owners.listener(0));
    await pollUntil(c, () => c.assignment().length === 2);
    const admin = await client();
    const memberBefore = (await describeGroup(admin, 'slow')).members[0].memberId as string;
    // No poll: the heartbeat worker notices and leaves; wait (bounded) for the group to be empty.
    const deadline = Date.now() + 5_000;
    while ((await describeGroup(admin, 'slow')).groupState !== 'Empty') {
      if (Date.now() > deadline) throw new Error('the member did not leave');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(lines.some((l) => String(l.msg).startsWith('poll() was not called within max.poll.interval.ms'))).toBe(true);
    await pollUntil(c, () => owners.calls.some((call) => call.callback === 'assigned' && owners.calls.indexOf(call) > 1));
    expect(owners.calls.map((call) => call.callback)).toEqual(['assigned', 'lost', 'assigned']);
    const after = await describeGroup(admin, 'slow');
    expect(after.members).toHaveLength(1);
    expect(after.members[0].memberId).not.toBe(memberBefore);
    await expect(c.commitSync()).resolves.toBeUndefined();
  });
});
