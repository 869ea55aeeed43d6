import { createRequire } from 'node:module';
import type { Admin, Consumer, EachMessagePayload, Kafka as KafkaType, Producer } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import { partitionForKey } from '../../src/shared/partitioner.js';
import { Compression } from '../../src/shared/record-batch/index.js';
import { memoryLogger } from '../actors/helpers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { storedBatches, storedRecords } from './read-partition.js';
import { until } from './wait.js';

const require = createRequire(import.meta.url);
const { Kafka, CompressionTypes, logLevel } = require('kafkajs') as typeof import('kafkajs');

const tempDir = useTempDirs();
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function setup(): Promise<{ cluster: Cluster; kafka: KafkaType }> {
  const cluster = await startCluster({ dataDir: tempDir(), logger: memoryLogger().logger, port: 0, brokerConfig: { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 4 } });
  open.push(cluster);
  const kafka = new Kafka({ clientId: 'kafkajs-test', brokers: [cluster.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 50 } });
  return { cluster, kafka };
}

/** A connected KafkaJS admin and producer, and a topic the admin created. */
async function adminAndProducer(kafka: KafkaType, topic: string, numPartitions: number): Promise<{ admin: Admin; producer: Producer }> {
  const admin = kafka.admin();
  await admin.connect();
  open.push({ close: () => admin.disconnect() });
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  const producer = kafka.producer();
  await producer.connect();
  open.push({ close: () => producer.disconnect() });
  return { admin, producer };
}

function startConsumer(kafka: KafkaType, groupId: string, topic: string, seen: { member: number; partition: number; offset: string; value: string }[], member: number): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId, heartbeatInterval: 300, sessionTimeout: 6_000, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 });
  open.push({ close: () => consumer.disconnect() });
  return consumer.connect()
    .then(() => consumer.subscribe({ topics: [topic], fromBeginning: true }))
    .then(() => consumer.run({
      autoCommitInterval: 100,
      eachMessage: async ({ partition, message }: EachMessagePayload) => {
        seen.push({ member, partition, offset: message.offset, value: message.value!.toString() });
      },
    }))
    .then(() => consumer);
}

describe('KafkaJS over TCP', () => {
  it('admin: createTopics and fetchTopicMetadata', async () => {
    const { kafka, cluster } = await setup();
    const admin = kafka.admin();
    await admin.connect();
    open.push({ close: () => admin.disconnect() });
    expect(await admin.createTopics({ topics: [{ topic: 'admin-made', numPartitions: 3 }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: 'admin-made', numPartitions: 3 }] })).toBe(false); // exists already
    const { topics } = await admin.fetchTopicMetadata({ topics: ['admin-made'] });
    expect(topics[0]!.name).toBe('admin-made');
    expect(topics[0]!.partitions.map((p) => [p.partitionId, p.leader]).sort()).toEqual([[0, 0], [1, 0], [2, 0]]);
    expect(await admin.listTopics()).toContain('admin-made');
    expect((await cluster.broker(0).status()).topics).toContain('admin-made');
  }, 30_000);

  it('producer: keyed records land where ringlog partitions them; gzip batches read back with ringlog', async () => {
    const { kafka, cluster } = await setup();
    const { producer } = await adminAndProducer(kafka, 'keyed', 6);
    const keys = Array.from({ length: 60 }, (_, i) => `key-${i * 7919}`);
    const acks = await producer.send({ topic: 'keyed', compression: CompressionTypes.GZIP, messages: keys.map((key) => ({ key, value: `value of ${key}` })) });
    expect(acks.length).toBeGreaterThan(1);
    const byPartition = new Map<number, string[]>();
    for (const key of keys) {
      const p = partitionForKey(Buffer.from(key), 6);
      byPartition.set(p, [...(byPartition.get(p) ?? []), key]);
    }
    for (const [partition, expected] of byPartition) {
      const batches = await storedBatches(cluster.bootstrapServers, 'keyed', partition);
      const records = storedRecords(batches);
      expect(records.map((r) => r.key?.toString())).toEqual(expected);
      expect(records.map((r) => r.value?.toString())).toEqual(expected.map((k) => `value of ${k}`));
      expect(new Set(batches.map((b) => b.compression))).toEqual(new Set([Compression.gzip]));
    }
  }, 30_000);

  it('consumer group: two members share a topic, commit, and a restarted member resumes from the commits', async () => {
    const { kafka } = await setup();
    const { admin, producer } = await adminAndProducer(kafka, 'shared', 4);
    const send = (from: number, count: number) => producer.send({ topic: 'shared', messages: Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` })) });
    await send(0, 40);

    const seen: { member: number; partition: number; offset: string; value: string }[] = [];
    const first = await startConsumer(kafka, 'g1', 'shared', seen, 1);
    const second = await startConsumer(kafka, 'g1', 'shared', seen, 2);
    await until('both members consuming 40 records', async () => {
      const group = await admin.describeGroups(['g1']);
      return group.groups[0]!.state === 'Stable' && group.groups[0]!.members.length === 2 && new Set(seen.map((s) => s.value)).size === 40;
    }, 30_000);
    // Both members got partitions; each partition went to one member at a time.
    const description = await admin.describeGroups(['g1']);
    expect(description.groups[0]!.members.map((m) => m.clientHost)).toEqual(['/127.0.0.1', '/127.0.0.1']);
    await send(40, 20);
    await until('the next 20 records', () => new Set(seen.map((s) => s.value)).size === 60, 30_000);
    expect(new Set(seen.filter((s) => Number(s.value.slice(1)) >= 40).map((s) => s.member))).toEqual(new Set([1, 2]));
    await until('offsets committed', async () => {
      const offsets = await admin.fetchOffsets({ groupId: 'g1', topics: ['shared'] });
      const committed = offsets[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
      return committed === 60;
    });
    await first.disconnect();
    await second.disconnect();

    await send(60, 10);
    const resumed: typeof seen = [];
    await startConsumer(kafka, 'g1', 'shared', resumed, 3);
    await until('the 10 records after the commits', () => resumed.length >= 10, 30_000);
    expect(resumed.map((r) => r.value).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `v${60 + i}`).sort());
  }, 90_000);
});
