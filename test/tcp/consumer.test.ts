import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import type { Consumer } from '../../src/actors/consumer.js';
import { createConsumer } from '../../src/actors/tcp-clients.js';
import { ConfigError } from '../../src/shared/errors.js';
import { memoryLogger } from '../actors/helpers.js';
import { pollUntil } from '../actors/consumers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');

const tempDir = useTempDirs();
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function setup(): Promise<Cluster> {
  const cluster = await startCluster({ dataDir: tempDir(), logger: memoryLogger().logger, port: 0, brokerConfig: { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 100, 'offsets.topic.num.partitions': 3 } });
  open.push(cluster);
  return cluster;
}

async function tcpConsumer<K = Buffer | null, V = Buffer | null>(cluster: Cluster, config: Record<string, unknown>): Promise<Consumer<K, V>> {
  const consumer = await createConsumer<K, V>({
    bootstrapServers: cluster.bootstrapServers, logger: memoryLogger().logger, 'auto.offset.reset': 'earliest',
    'session.timeout.ms': 2_000, 'heartbeat.interval.ms': 200, 'fetch.max.wait.ms': 100, ...config,
  });
  open.push({ close: () => consumer.close(5_000) });
  return consumer;
}

describe('Consumer over TCP (bootstrap.servers)', () => {
  it('joins a group, reads what KafkaJS wrote, commits, and a second member takes over from the commit', async () => {
    const cluster = await setup();
    const kafka = new Kafka({ clientId: 'kafkajs-writer', brokers: [cluster.bootstrapServers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'wire', numPartitions: 2 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'wire', messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2, headers: { n: String(i) } })) });
    await producer.disconnect();

    const first = await tcpConsumer<string, string>(cluster, { 'group.id': 'tcp-group', keyDeserializer: 'string', valueDeserializer: 'string', 'enable.auto.commit': false });
    first.subscribe(['wire']);
    const records = await pollUntil(first, (r) => r.length >= 40, 15_000);
    expect(records.map((r) => r.value).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `v${i}`).sort());
    expect(records.find((r) => r.key === 'k7')).toMatchObject({ partition: 1, value: 'v7' });
    expect(records.find((r) => r.key === 'k7')!.headers.map((h) => `${h.key}=${h.value!.toString()}`)).toEqual(['n=7']);
    await first.commitSync([{ topic: 'wire', partition: 0, offset: 15 }, { topic: 'wire', partition: 1, offset: 20 }]);
    await first.close();

    const second = await tcpConsumer(cluster, { 'group.id': 'tcp-group' });
    second.subscribe(['wire']);
    const rest = await pollUntil(second, (r) => r.length >= 5, 15_000);
    expect(rest.map((r) => `${r.partition}:${r.offset}`).sort()).toEqual(['0:15', '0:16', '0:17', '0:18', '0:19']);
  });

  it('needs bootstrap.servers', () => {
    expect(() => createConsumer({ 'group.id': 'x' })).toThrow(ConfigError);
    expect(() => createConsumer({ 'bootstrap.servers': 'nohost' })).toThrow('bootstrap.servers');
  });
});
