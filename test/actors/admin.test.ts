import { afterEach, describe, expect, it } from 'vitest';
import type { Admin } from '../../src/actors/admin.js';
import type { Cluster } from '../../src/actors/cluster.js';
import { ChannelClosedError, ConfigError, IllegalStateError, InvalidArgumentError, InvalidGroupIdError, ResourceError, TimeoutError } from '../../src/shared/errors.js';
import { pollAllUntil, tps, useConsumerTests } from './consumers.js';

const { start, consumer } = useConsumerTests();
const admins: Admin[] = [];
afterEach(async () => {
  for (const admin of admins.splice(0)) await admin.close();
});

async function adminOf(cluster: Cluster, config: Record<string, unknown> = {}): Promise<Admin> {
  const admin = await cluster.admin(config);
  admins.push(admin);
  return admin;
}

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(() => { throw new Error('expected a rejection'); }, (error: unknown) => error as Error);
}

describe('Admin (embedded)', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const { cluster } = await start();
    const admin = await adminOf(cluster);
    const created = await admin.createTopics([{ name: 'orders', numPartitions: 3 }, { name: 'audit' }]);
    expect(created.map((t) => [t.name, t.numPartitions, t.replicationFactor])).toEqual([['orders', 3, 1], ['audit', 1, 1]]);
    expect(created[0]!.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(created[0]!.topicId).not.toBe('AAAAAAAAAAAAAAAAAAAAAA');

    expect((await admin.listTopics()).map((t) => t.name)).toEqual(['audit', 'orders']);
    // A group's FindCoordinator makes __consumer_offsets: listed only when asked for.
    await admin.listConsumerGroupOffsets('nobody');
    expect((await admin.listTopics()).map((t) => t.name)).toEqual(['audit', 'orders']);
    expect(await admin.listTopics({ listInternal: true })).toContainEqual(expect.objectContaining({ name: '__consumer_offsets', isInternal: true }));

    const [orders] = await admin.describeTopics(['orders']);
    expect(orders).toMatchObject({ name: 'orders', topicId: created[0]!.topicId, isInternal: false });
    expect(orders!.partitions).toEqual([0, 1, 2].map((partition) => ({ partition, leader: 0, leaderEpoch: 0, replicas: [0], isr: [0], offlineReplicas: [] })));

    await admin.deleteTopics(['orders']);
    expect((await admin.listTopics()).map((t) => t.name)).toEqual(['audit']);
    const gone = await rejection(admin.describeTopics(['orders']));
    expect(gone).toBeInstanceOf(ResourceError);
    expect(gone).toMatchObject({ resourceType: 'topic', resource: 'orders', errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(await rejection(admin.deleteTopics(['orders']))).toMatchObject({ resource: 'orders', errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  it('names the topic and Kafka error the broker refused; the rest of the call goes through', async () => {
    const { cluster } = await start();
    const admin = await adminOf(cluster);
    await admin.createTopics([{ name: 'taken' }]);

    const exists = await rejection(admin.createTopics([{ name: 'taken' }]));
    expect(exists).toBeInstanceOf(ResourceError);
    expect(exists).toMatchObject({ code: 'ERR_KAFKA_API', errorName: 'TOPIC_ALREADY_EXISTS', errorCode: 36, resourceType: 'topic', resource: 'taken', retriable: false });
    expect(exists.message).toMatch(/^topic 'taken': TOPIC_ALREADY_EXISTS \(36\)/);

    const mixed = await rejection(admin.createTopics([{ name: 'fine' }, { name: 'bad/name' }, { name: 'taken' }])) as ResourceError;
    expect(mixed).toMatchObject({ resource: 'bad/name', errorName: 'INVALID_TOPIC_EXCEPTION' });
    expect(mixed.failures.map((f) => `${f.resource} ${f.errorName}`)).toEqual(['bad/name INVALID_TOPIC_EXCEPTION', 'taken TOPIC_ALREADY_EXISTS']);
    expect((await admin.listTopics()).map((t) => t.name)).toEqual(['fine', 'taken']);

    expect(await rejection(admin.createTopics([{ name: 'replicated', replicationFactor: 3 }]))).toMatchObject({ resource: 'replicated', errorName: 'INVALID_REPLICATION_FACTOR' });

    // validateOnly answers as a create would, and creates nothing.
    expect(await admin.createTopics([{ name: 'dry-run', numPartitions: 2 }], { validateOnly: true })).toMatchObject([{ name: 'dry-run', numPartitions: 2 }]);
    expect(await rejection(admin.createTopics([{ name: '..' }], { validateOnly: true }))).toMatchObject({ errorName: 'INVALID_TOPIC_EXCEPTION' });
    expect((await admin.listTopics()).map((t) => t.name)).toEqual(['fine', 'taken']);
  });

  it('refuses bad arguments before sending anything, and bounds every call by its timeout', async () => {
    const { cluster } = await start();
    const admin = await adminOf(cluster, { 'request.timeout.ms': 200, 'retry.backoff.ms': 20 });
    await admin.listTopics(); // connected
    // A paused broker answers nothing: calls that reach it wait; argument errors come at once.
    await cluster.broker(0).pause();
    try {
      const cases: [() => Promise<unknown>, string][] = [
        [() => admin.createTopics([]), 'topics'],
        [() => admin.createTopics([{ name: 'x', numPartitions: -1 }]), 'topics[0].numPartitions'],
        [() => admin.createTopics([{ name: 'x', numPartitions: 0 }]), 'topics[0].numPartitions'],
        [() => admin.createTopics([{ name: 'x', replicationFactor: 1.5 }]), 'topics[0].replicationFactor'],
        [() => admin.createTopics([{ name: '' }]), 'topics[0].name'],
        [() => admin.createTopics([{ name: 'x' }, { name: 'x' }]), 'topics[1].name'],
        [() => admin.deleteTopics([]), 'topics'],
        [() => admin.describeTopics(['ok', 7 as unknown as string]), 'topics[1]'],
        [() => admin.listOffsets([{ topic: 't', partition: -1 }]), 'partitions[0].partition'],
        [() => admin.listOffsets([{ topic: 't', partition: 0, spec: { timestamp: -5 } }]), 'partitions[0].spec'],
        [() => admin.listOffsets([{ topic: 't', partition: 0 }, { topic: 't', partition: 0 }]), 'partitions[1]'],
        [() => admin.listTopics({ timeoutMs: -1 }), 'timeoutMs'],
      ];
      for (const [call, argument] of cases) {
        const error = await rejection(call());
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument });
      }
      expect(await rejection(admin.describeConsumerGroups([' ']))).toBeInstanceOf(InvalidGroupIdError);

      const timedOut = await rejection(admin.listTopics({ timeoutMs: 500 }));
      expect(timedOut).toBeInstanceOf(TimeoutError);
      expect(timedOut).toMatchObject({ code: 'ERR_ADMIN_TIMEOUT', timeoutMs: 500 });
      expect(timedOut.message).toContain('listTopics did not complete');
    } finally {
      await cluster.broker(0).resume();
    }
    // After the timeouts the admin reconnects and carries on.
    expect(await admin.listTopics()).toEqual([]);
    expect(await rejection(cluster.admin({ 'default.api.timeout.ms': 100 }))).toBeInstanceOf(ConfigError);
  });

  it('close() fails the calls under way and refuses later ones', async () => {
    const { cluster } = await start();
    const admin = await cluster.admin();
    await admin.listTopics();
    await cluster.broker(0).pause(); // the call below stays under way until close()
    try {
      const underWay = rejection(admin.describeTopics(['any']));
      await admin.close();
      expect(await underWay).toBeInstanceOf(ChannelClosedError);
    } finally {
      await cluster.broker(0).resume();
    }
    expect(await rejection(admin.listTopics())).toBeInstanceOf(IllegalStateError);
  });

  it('lists earliest, latest and by-timestamp offsets of records the producer wrote', async () => {
    const { cluster } = await start();
    const admin = await adminOf(cluster);
    await admin.createTopics([{ name: 'clicks', numPartitions: 2 }]);
    const producer = await cluster.producer({ 'linger.ms': 1 });
    try {
      await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => producer.send({ topic: 'clicks', partition: 0, timestamp: 1_000 + i * 10, value: `c${i}` })),
        ...Array.from({ length: 4 }, (_, i) => producer.send({ topic: 'clicks', partition: 1, value: `d${i}` })),
      ]);
    } finally {
      await producer.close();
    }
    const offsets = await admin.listOffsets([{ topic: 'clicks', partition: 1 }, { topic: 'clicks', partition: 0, spec: 'earliest' }]); // latest by default
    expect(offsets).toEqual([{ topic: 'clicks', partition: 1, offset: 4, timestamp: -1, leaderEpoch: 0 }, { topic: 'clicks', partition: 0, offset: 0, timestamp: -1, leaderEpoch: 0 }]);
    const [end] = await admin.listOffsets([{ topic: 'clicks', partition: 0, spec: 'latest' }]);
    expect(end).toMatchObject({ offset: 10, timestamp: -1 });
    // The first record at or after 1045 is the one stamped 1050.
    const [at] = await admin.listOffsets([{ topic: 'clicks', partition: 0, spec: { timestamp: 1_045 } }]);
    expect(at).toMatchObject({ topic: 'clicks', partition: 0, offset: 5, timestamp: 1_050 });
    const [after] = await admin.listOffsets([{ topic: 'clicks', partition: 0, spec: { timestamp: 1_000_000 } }]);
    expect(after).toMatchObject({ offset: -1, timestamp: -1 });

    const missing = await rejection(admin.listOffsets([{ topic: 'clicks', partition: 0 }, { topic: 'clicks', partition: 5 }, { topic: 'nowhere', partition: 0 }])) as ResourceError;
    expect(missing.failures.map((f) => `${f.resourceType} ${f.resource} ${f.errorName}`)).toEqual(['partition clicks-5 UNKNOWN_TOPIC_OR_PARTITION', 'partition nowhere-0 UNKNOWN_TOPIC_OR_PARTITION']);
  });

  it('lists and describes a group of two consumers, with their assignments and committed offsets', async () => {
    const { cluster } = await start();
    const admin = await adminOf(cluster);
    await admin.createTopics([{ name: 'jobs', numPartitions: 4 }]);
    const members = [
      await consumer(cluster, { 'group.id': 'workers', 'client.id': 'worker-a', 'enable.auto.commit': false }),
      await consumer(cluster, { 'group.id': 'workers', 'client.id': 'worker-b', 'enable.auto.commit': false }),
    ];
    for (const m of members) m.subscribe(['jobs']);
    await pollAllUntil(members, () => members.every((m) => m.assignment().length === 2));
    await members[0]!.commitSync(members[0]!.assignment().map((tp) => ({ ...tp, offset: 3 + tp.partition })));
    await members[1]!.commitSync(members[1]!.assignment().map((tp) => ({ ...tp, offset: 3 + tp.partition, metadata: 'b' })));

    expect(await admin.listConsumerGroups()).toEqual([{ groupId: 'workers', protocolType: 'consumer', state: 'Stable', type: 'classic', isSimpleConsumerGroup: false }]);

    const [group, unknown] = await admin.describeConsumerGroups(['workers', 'nobody']);
    expect(group).toMatchObject({ groupId: 'workers', state: 'Stable', protocolType: 'consumer', protocol: 'range', coordinator: 0, isSimpleConsumerGroup: false });
    expect(group!.members.map((m) => m.clientId).sort()).toEqual(['worker-a', 'worker-b']);
    for (const [i, m] of members.entries()) {
      const described = group!.members.find((d) => d.clientId === `worker-${'ab'[i]}`)!;
      expect(tps(described.assignment)).toEqual(tps(m.assignment()));
      expect(described.host).toBe('/embedded');
    }
    expect(unknown).toMatchObject({ groupId: 'nobody', state: 'Dead', members: [] });

    expect((await admin.listConsumerGroupOffsets('workers')).map((o) => [o.partition, o.offset])).toEqual([[0, 3], [1, 4], [2, 5], [3, 6]]);
    const bOwns = members[1]!.assignment()[0]!;
    expect(await admin.listConsumerGroupOffsets('workers', [bOwns, { topic: 'jobs', partition: 9 }])).toEqual([{ ...bOwns, offset: 3 + bOwns.partition, leaderEpoch: -1, metadata: 'b' }]);
  });
});
