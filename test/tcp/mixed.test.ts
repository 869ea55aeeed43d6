import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Kafka as KafkaType } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import { createConsumer, createProducer } from '../../src/actors/tcp-clients.js';
import { COMPRESSION_NAMES } from '../../src/shared/record-batch/layout.js';
import { pollUntil } from '../actors/consumers.js';
import { memoryLogger } from '../actors/helpers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { kcat, kcatRecords, kcatVersion, RECORD_FORMAT } from './kcat.js';
import { storedBatches, storedRecords } from './read-partition.js';
import { until } from './wait.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');

const tempDir = useTempDirs();
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

interface Bytes {
  key: Buffer | null;
  value: Buffer | null;
}

async function setup(): Promise<{ cluster: Cluster; kafka: KafkaType }> {
  const cluster = await startCluster({ dataDir: tempDir(), logger: memoryLogger().logger, port: 0, brokerConfig: { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 2 } });
  open.push(cluster);
  return { cluster, kafka: new Kafka({ clientId: 'mixed', brokers: [cluster.bootstrapServers], logLevel: logLevel.NOTHING }) };
}

/** Every record of a one-partition topic as KafkaJS's consumer hands it over, with its headers. */
async function kafkajsConsume(kafka: KafkaType, topic: string, count: number): Promise<(Bytes & { headers: Record<string, Buffer> })[]> {
  const consumer = kafka.consumer({ groupId: `read-${topic}`, heartbeatInterval: 300, maxWaitTimeInMs: 100 });
  open.push({ close: () => consumer.disconnect() });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const got: (Bytes & { headers: Record<string, Buffer> })[] = [];
  await consumer.run({ eachMessage: async ({ message }) => { got.push({ key: message.key, value: message.value, headers: message.headers as Record<string, Buffer> }); } });
  await until(`${count} records through KafkaJS`, () => got.length >= count, 30_000);
  return got;
}

/** Every record of partition 0 of `topic` through ringlog's Consumer over TCP (assigned, no group). */
async function ringlogConsume(bootstrap: string, topic: string, count: number): Promise<(Bytes & { headers: { key: string; value: Buffer | null }[] })[]> {
  const consumer = await createConsumer({ bootstrapServers: bootstrap, logger: memoryLogger().logger, 'auto.offset.reset': 'earliest', 'fetch.max.wait.ms': 100 });
  open.push({ close: () => consumer.close(5_000) });
  consumer.assign([{ topic, partition: 0 }]);
  const records = await pollUntil(consumer, (r) => r.length >= count, 15_000);
  return records.map(({ key, value, headers }) => ({ key, value, headers: headers.map((h) => ({ key: h.key, value: h.value })) }));
}

async function kcatConsume(bootstrap: string, topic: string): Promise<Bytes[]> {
  return kcatRecords((await kcat(['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', RECORD_FORMAT])).stdout).map(({ key, value }) => ({ key, value }));
}

/** Values with every byte value, newlines and zeros among them, and an empty one. */
const values = (): Buffer[] => [Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(3_000), Buffer.from('line\nbreak\r\n\0end'), Buffer.alloc(0), randomBytes(70_000)];

describe.skipIf(kcatVersion === null)('mixed clients over TCP, byte for byte', () => {
  it('kcat produces, KafkaJS, ringlog\'s Consumer and its reader consume the same bytes', async () => {
    const { cluster, kafka } = await setup();
    const dir = tempDir();
    const sent = values().filter((v) => v.length > 0); // kcat skips an empty file
    const files = sent.map((value, i) => {
      const file = join(dir, `m${i}`);
      writeFileSync(file, value);
      return file;
    });
    await kcat(['-b', cluster.bootstrapServers, '-P', '-t', 'from-kcat', '-k', 'the-key', '-H', 'origin=kcat', '-z', 'gzip', ...files]);
    const got = await kafkajsConsume(kafka, 'from-kcat', sent.length);
    expect(got.map((r) => r.value)).toEqual(sent);
    expect(got.map((r) => r.key?.toString())).toEqual(sent.map(() => 'the-key'));
    expect(got.map((r) => r.headers.origin?.toString())).toEqual(sent.map(() => 'kcat'));
    const consumed = await ringlogConsume(cluster.bootstrapServers, 'from-kcat', sent.length);
    expect(consumed).toEqual(sent.map((value) => ({ key: Buffer.from('the-key'), value, headers: [{ key: 'origin', value: Buffer.from('kcat') }] })));
    const stored = storedRecords(await storedBatches(cluster.bootstrapServers, 'from-kcat', 0));
    expect(stored.map((r) => r.value)).toEqual(sent);
    expect(stored.map((r) => r.headers)).toEqual(sent.map(() => [{ key: 'origin', value: Buffer.from('kcat') }]));
  }, 40_000);

  it.each(['snappy', 'lz4', 'zstd'] as const)('kcat produces with %s, ringlog\'s Consumer reads the same bytes', async (codec) => {
    const { cluster } = await setup();
    const lines = Array.from({ length: 200 }, (_, i) => `k${i % 7}:value ${i} ${'x'.repeat(i)}`);
    await kcat(['-b', cluster.bootstrapServers, '-P', '-t', `kcat-${codec}`, '-K:', '-z', codec], { input: `${lines.join('\n')}\n` });
    const consumed = await ringlogConsume(cluster.bootstrapServers, `kcat-${codec}`, lines.length);
    expect(consumed.map((r) => `${r.key!.toString()}:${r.value!.toString()}`)).toEqual(lines);
    const batches = await storedBatches(cluster.bootstrapServers, `kcat-${codec}`, 0);
    expect(batches.map((b) => COMPRESSION_NAMES[b.compression])).toContain(codec);
  }, 30_000);

  it('KafkaJS produces, kcat and ringlog\'s Consumer consume the same bytes (null keys and values too)', async () => {
    const { cluster, kafka } = await setup();
    const producer = kafka.producer();
    await producer.connect();
    open.push({ close: () => producer.disconnect() });
    const sent: Bytes[] = [...values().map((value, i) => ({ key: i % 2 === 0 ? null : randomBytes(i * 5), value })), { key: Buffer.from('tombstone'), value: null }];
    await producer.send({ topic: 'from-kafkajs', messages: sent.map(({ key, value }) => ({ key, value })) });
    expect(await kcatConsume(cluster.bootstrapServers, 'from-kafkajs')).toEqual(sent);
    expect((await ringlogConsume(cluster.bootstrapServers, 'from-kafkajs', sent.length)).map(({ key, value }) => ({ key, value }))).toEqual(sent);
  }, 30_000);

  it('ringlog\'s TCP producer produces, kcat, KafkaJS and ringlog\'s Consumer consume the same bytes', async () => {
    const { cluster, kafka } = await setup();
    const producer = await createProducer({ bootstrapServers: cluster.bootstrapServers, logger: memoryLogger().logger, 'linger.ms': 0 });
    open.push({ close: () => producer.close() });
    const sent: Bytes[] = values().map((value, i) => ({ key: Buffer.from(`k${i}`), value }));
    const acks = await Promise.all(sent.map((r) => producer.send({ topic: 'from-ringlog', key: r.key, value: r.value, headers: { origin: 'ringlog' } })));
    expect(acks.map((a) => a.offset)).toEqual(sent.map((_, i) => i));
    expect(await kcatConsume(cluster.bootstrapServers, 'from-ringlog')).toEqual(sent);
    const got = await kafkajsConsume(kafka, 'from-ringlog', sent.length);
    expect(got.map(({ key, value }) => ({ key, value }))).toEqual(sent);
    expect(got.map((r) => r.headers.origin?.toString())).toEqual(sent.map(() => 'ringlog'));
    expect(await ringlogConsume(cluster.bootstrapServers, 'from-ringlog', sent.length)).toEqual(sent.map((r) => ({ ...r, headers: [{ key: 'origin', value: Buffer.from('ringlog') }] })));
  }, 40_000);

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)('ringlog\'s TCP producer compresses with %s, and kcat reads the same bytes', async (codec) => {
    const { cluster } = await setup();
    const producer = await createProducer({ bootstrapServers: cluster.bootstrapServers, logger: memoryLogger().logger, 'compression.type': codec, 'linger.ms': 5 });
    open.push({ close: () => producer.close() });
    const sent: Bytes[] = values().map((value, i) => ({ key: Buffer.from(`k${i}`), value }));
    await Promise.all(sent.map((r) => producer.send({ topic: `ringlog-${codec}`, key: r.key, value: r.value })));
    expect(await kcatConsume(cluster.bootstrapServers, `ringlog-${codec}`)).toEqual(sent);
    const batches = await storedBatches(cluster.bootstrapServers, `ringlog-${codec}`, 0);
    expect(batches.map((b) => COMPRESSION_NAMES[b.compression])).toContain(codec);
  }, 30_000);
});
