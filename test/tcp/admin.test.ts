import { createRequire } from 'node:module';
import type { Consumer as KafkaJSConsumer } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Admin } from '../../src/actors/admin.js';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import { createAdmin, createProducer } from '../../src/actors/tcp-clients.js';
import { ChannelClosedError, ConfigError, ResourceError, TimeoutError } from '../../src/shared/errors.js';
import { memoryLogger } from '../actors/helpers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { until } from './wait.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');

const tempDir = useTempDirs();
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function setup(): Promise<{ cluster: Cluster; admin: Admin }> {
  const cluster = await startCluster({ dataDir: tempDir(), logger: memoryLogger().logger, port: 0, brokerConfig: { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 3 } });
  open.push(cluster);
  const admin = await createAdmin({ bootstrapServers: cluster.bootstrapServers, 'client.id': 'tcp-admin', logger: memoryLogger().logger });
  open.push(admin);
  return { cluster, admin };
}

describe('Admin over TCP (bootstrap.servers)', () => {
  it('creates a topic that KafkaJS sees, lists offsets of records ringlog produced, and names refusals', async () => {
    const { cluster, admin } = await setup();
    const [created] = await admin.createTopics([{ name: 'tcp-topic', numPartitions: 3 }]);

    const kafka = new Kafka({ clientId: 'kafkajs-reader', brokers: [cluster.bootstrapServers], logLevel: logLevel.NOTHING });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    open.push({ close: () => kafkaAdmin.disconnect() });
    const { topics } = await kafkaAdmin.fetchTopicMetadata({ topics: ['tcp-topic'] });
    expect(topics[0]!.partitions.map((p) => [p.partitionId, p.leader]).sort()).toEqual([[0, 0], [1, 0], [2, 0]]);
    const [described] = await admin.describeTopics(['tcp-topic']);
    expect(described).toMatchObject({ name: 'tcp-topic', topicId: created!.topicId, isInternal: false });

    const producer = await createProducer({ bootstrapServers: cluster.bootstrapServers, 'linger.ms': 1, logger: memoryLogger().logger });
    open.push(producer);
    await Promise.all(Array.from({ length: 9 }, (_, i) => producer.send({ topic: 'tcp-topic', partition: i % 3, value: `v${i}` })));
    expect(await admin.listOffsets([0, 1, 2].map((partition) => ({ topic: 'tcp-topic', partition })))).toEqual(
      [0, 1, 2].map((partition) => ({ topic: 'tcp-topic', partition, offset: 3, timestamp: -1, leaderEpoch: 0 })),
    );

    const exists = await admin.createTopics([{ name: 'tcp-topic' }]).catch((error: unknown) => error);
    expect(exists).toBeInstanceOf(ResourceError);
    expect(exists).toMatchObject({ resource: 'tcp-topic', errorName: 'TOPIC_ALREADY_EXISTS' });
    await admin.deleteTopics(['tcp-topic']);
    expect(await admin.listTopics()).toEqual([]);
  }, 30_000);

  it('describes a KafkaJS consumer group: members, their assignments decoded, committed offsets', async () => {
    const { cluster, admin } = await setup();
    await admin.createTopics([{ name: 'work', numPartitions: 4 }]);
    const kafka = new Kafka({ clientId: 'kafkajs-group', brokers: [cluster.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 50 } });
    let consumed = 0;
    const consumers: KafkaJSConsumer[] = [];
    for (let i = 0; i < 2; i++) {
      const consumer = kafka.consumer({ groupId: 'kafkajs-group', heartbeatInterval: 300, sessionTimeout: 6_000, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 });
      open.push({ close: () => consumer.disconnect() });
      await consumer.connect();
      await consumer.subscribe({ topics: ['work'], fromBeginning: true });
      await consumer.run({ autoCommitInterval: 100, eachMessage: async () => { consumed++; } });
      consumers.push(consumer);
    }
    await until('two KafkaJS members with two partitions each', async () => {
      const [group] = await admin.describeConsumerGroups(['kafkajs-group']);
      return group!.state === 'Stable' && group!.members.length === 2 && group!.members.every((m) => m.assignment.length === 2);
    });
    const [group] = await admin.describeConsumerGroups(['kafkajs-group']);
    expect(group).toMatchObject({ groupId: 'kafkajs-group', protocolType: 'consumer', protocol: 'RoundRobinAssigner', coordinator: 0 });
    expect(group!.members.every((m) => m.clientId === 'kafkajs-group' && m.host === '/127.0.0.1')).toBe(true);
    expect(group!.members.flatMap((m) => m.assignment.map((tp) => `${tp.topic}-${tp.partition}`)).sort()).toEqual(['work-0', 'work-1', 'work-2', 'work-3']);
    expect(await admin.listConsumerGroups()).toContainEqual(expect.objectContaining({ groupId: 'kafkajs-group', state: 'Stable', protocolType: 'consumer' }));

    const producer = await createProducer({ bootstrapServers: cluster.bootstrapServers, 'linger.ms': 1, logger: memoryLogger().logger });
    open.push(producer);
    await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send({ topic: 'work', partition: i % 4, value: `job-${i}` })));
    await until('KafkaJS committed all 20 records', async () => {
      const offsets = await admin.listConsumerGroupOffsets('kafkajs-group');
      return consumed >= 20 && offsets.reduce((sum, o) => sum + o.offset, 0) === 20;
    });
    expect((await admin.listConsumerGroupOffsets('kafkajs-group')).map((o) => `${o.topic}-${o.partition}@${o.offset}`)).toEqual(['work-0@5', 'work-1@5', 'work-2@5', 'work-3@5']);
  }, 30_000);

  it('needs bootstrap.servers, and bounds calls to a broker that is not there', async () => {
    await expect(createAdmin({})).rejects.toBeInstanceOf(ConfigError);
    await expect(createAdmin({ bootstrapServers: 'nohost' })).rejects.toThrow(/bootstrapServers: 'nohost' is not host:port/);
    const admin = await createAdmin({ bootstrapServers: '127.0.0.1:1', 'request.timeout.ms': 200, 'default.api.timeout.ms': 600, 'reconnect.backoff.ms': 20, logger: memoryLogger().logger });
    open.push(admin);
    const error = await admin.listTopics().then(() => { throw new Error('expected a timeout'); }, (e: unknown) => e as TimeoutError);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'ERR_ADMIN_TIMEOUT', timeoutMs: 600 });
    expect(error.message).toMatch(/listTopics did not complete; last error: cannot connect to 127\.0\.0\.1:1/);

    // close() ends a call that is retrying (default.api.timeout.ms is a minute) at once.
    const { logger, lines } = memoryLogger();
    const retrying = await createAdmin({ bootstrapServers: '127.0.0.1:1', logger });
    const call = retrying.listTopics().then(() => undefined, (e: unknown) => e);
    await until('a failed connection attempt', () => lines.some((l) => l.msg === 'bootstrap server unavailable'));
    await retrying.close();
    expect(await call).toBeInstanceOf(ChannelClosedError);
  });
});
