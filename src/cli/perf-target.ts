/**
 * What the consumer tools run against: an embedded broker in a temporary directory (or a given
 * one), or, with --bootstrap-server, any Kafka cluster (ringlog's or Kafka's) over TCP. Either way
 * the tool gets producers, consumers and a KafkaClient the same way, plus the topic helpers: create
 * a topic, look one up, and fill one with N records of S bytes written with the Producer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startCluster } from '../actors/cluster.js';
import type { Consumer, ConsumerConfig } from '../actors/consumer.js';
import type { KafkaClient } from '../actors/kafka-client.js';
import type { Producer, ProducerConfig } from '../actors/producer.js';
import { connectClient, createConsumer, createProducer } from '../actors/tcp-clients.js';
import { requestMetadata } from '../actors/broker-clients.js';
import { ApiKeys, ErrorCodes, kafkaError } from '../shared/protocol/index.js';

export interface PerfTarget {
  /** Where the records are: 'embedded broker' or the bootstrap servers. */
  readonly where: string;
  producer(config: ProducerConfig): Promise<Producer>;
  consumer(config: ConsumerConfig<Buffer | null, Buffer | null>): Promise<Consumer>;
  /** A client for admin requests; the caller closes it. */
  client(): Promise<KafkaClient>;
  close(): Promise<void>;
}

/**
 * An embedded broker (group.initial.rebalance.delay.ms 0, as Kafka's shipped server.properties sets
 * it for tools and tests) unless `bootstrapServer` names brokers to reach over TCP.
 */
export async function openPerfTarget(bootstrapServer: string | undefined, dataDir: string | undefined, prefix: string): Promise<PerfTarget> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  if (bootstrapServer !== undefined) {
    return {
      where: bootstrapServer,
      producer: (config) => createProducer({ ...config, bootstrapServers: bootstrapServer, logger }),
      consumer: (config) => createConsumer({ ...config, bootstrapServers: bootstrapServer, logger }),
      client: () => connectClient(bootstrapServer),
      close: () => Promise.resolve(),
    };
  }
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), `ringlog-${prefix}-`));
  const cluster = await startCluster({ dataDir: dir, logger, brokerConfig: { 'group.initial.rebalance.delay.ms': 0 } });
  return {
    where: 'the embedded broker',
    producer: (config) => cluster.producer(config),
    consumer: (config) => cluster.consumer(config),
    client: () => cluster.client(),
    async close() {
      await cluster.close();
      if (dataDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates `topic` with `partitions` partitions; one that exists already is left as it is. */
export async function createTopic(target: PerfTarget, topic: string, partitions: number): Promise<void> {
  const client = await target.client();
  try {
    const created = await client.request(ApiKeys.CREATE_TOPICS, {
      topics: [{ name: topic, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30_000, validateOnly: false,
    }) as { topics: { errorCode: number; errorMessage: string | null }[] };
    const { errorCode, errorMessage } = created.topics[0]!;
    if (errorCode !== ErrorCodes.NONE && errorCode !== ErrorCodes.TOPIC_ALREADY_EXISTS) throw kafkaError(errorCode, errorMessage);
  } finally {
    client.close();
  }
}

/** How many partitions `topic` has, or null when it does not exist (looked up without creating it). */
export async function partitionCount(target: PerfTarget, topic: string): Promise<number | null> {
  const client = await target.client();
  try {
    const info = (await requestMetadata(client, [topic], false)).get(topic);
    if (info === undefined || info.errorCode === ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION) return null;
    if (info.errorCode !== ErrorCodes.NONE) throw kafkaError(info.errorCode);
    return info.leaders.length;
  } finally {
    client.close();
  }
}

/** Kafka's perf payload: `sizeBytes` letters. */
export function payload(sizeBytes: number): Buffer {
  const value = Buffer.alloc(sizeBytes);
  for (let i = 0; i < value.length; i++) value[i] = 0x41 + (i % 26);
  return value;
}

/** Writes `count` records of `value` round-robin over the partitions, acks=1, and waits for every acknowledgement. */
export async function fill(target: PerfTarget, topic: string, partitions: number, count: number, value: Buffer): Promise<void> {
  const producer = await target.producer({ acks: '1', 'enable.idempotence': false, 'linger.ms': 5, 'batch.size': 65_536 });
  try {
    let failed: Error | null = null;
    for (let i = 0; i < count; i++) {
      const ok = producer.send({ topic, partition: i % partitions, value }, (error) => { failed ??= error; });
      if (!ok) await producer.drained();
      if ((i & 0xfff) === 0xfff) await new Promise((resolve) => setImmediate(resolve));
    }
    await producer.flush();
    if (failed !== null) throw failed;
  } finally {
    await producer.close();
  }
}
