/**
 * Helpers for consumer tests: a cluster with short group timeouts, topics, records produced with
 * the real Producer, and polling until a condition holds (bounded, never a fixed sleep).
 */
import { afterEach, expect } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import type { Consumer, ConsumerConfig, ConsumerRecord } from '../../src/actors/consumer.js';
import type { KafkaClient } from '../../src/actors/kafka-client.js';
import { ApiKeys } from '../../src/shared/protocol/index.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { memoryLogger, type LogLine } from './helpers.js';

/** Groups that rebalance at once and allow sessions as short as 100 ms. */
export const GROUP_BROKER_CONFIG = { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 100, 'offsets.topic.num.partitions': 3 };

/** Consumer settings for quick tests: short sessions and heartbeats, reading from the start. */
export const QUICK = { 'session.timeout.ms': 1_500, 'heartbeat.interval.ms': 100, 'auto.offset.reset': 'earliest', 'fetch.max.wait.ms': 100 };

export interface TestCluster {
  cluster: Cluster;
  dataDir: string;
  lines: LogLine[];
  client: () => Promise<KafkaClient>;
}

/** Per test file: clusters and consumers started through it are closed after each test. */
export function useConsumerTests(): {
  start: (brokerConfig?: Record<string, unknown>, dataDir?: string) => Promise<TestCluster>;
  consumer: <K = Buffer | null, V = Buffer | null>(c: Cluster, config?: ConsumerConfig<K, V>) => Promise<Consumer<K, V>>;
  tempDir: () => string;
} {
  const tempDir = useTempDirs();
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
  });
  return {
    tempDir,
    async start(brokerConfig = {}, dataDir = tempDir()) {
      const { logger, lines } = memoryLogger();
      const cluster = await startCluster({ dataDir, logger, brokerConfig: { ...GROUP_BROKER_CONFIG, ...brokerConfig } });
      const clients: KafkaClient[] = [];
      open.push({ close: async () => { for (const c of clients) c.close(); await cluster.close(); } });
      return { cluster, dataDir, lines, client: async () => { const c = await cluster.client(); clients.push(c); return c; } };
    },
    async consumer<K = Buffer | null, V = Buffer | null>(c: Cluster, config: ConsumerConfig<K, V> = {}) {
      const consumer = await c.consumer<K, V>({ ...QUICK, ...config });
      open.push({ close: () => consumer.close(5_000) });
      return consumer;
    },
  };
}

export async function createTopic(client: KafkaClient, name: string, numPartitions: number): Promise<void> {
  const answer = await client.request(ApiKeys.CREATE_TOPICS, { topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5_000, validateOnly: false }) as { topics: { errorCode: number }[] };
  expect(answer.topics[0]!.errorCode).toBe(0);
}

/** Produces `count` records `<prefix>-<i>` round-robin over `partitions` partitions; waits for every ack. */
export async function produce(cluster: Cluster, topic: string, count: number, options: { partitions?: number; prefix?: string; from?: number } = {}): Promise<void> {
  const producer = await cluster.producer({ acks: '1', 'enable.idempotence': false, 'linger.ms': 1 });
  try {
    const { partitions = 1, prefix = 'r', from = 0 } = options;
    await Promise.all(Array.from({ length: count }, (_, i) => producer.send({ topic, partition: (from + i) % partitions, value: `${prefix}-${from + i}` })));
  } finally {
    await producer.close();
  }
}

/** Polls until `done(all records so far)` holds, at most withinMs; returns every record polled. */
export async function pollUntil<K, V>(consumer: Consumer<K, V>, done: (records: ConsumerRecord<K, V>[]) => boolean, withinMs = 8_000): Promise<ConsumerRecord<K, V>[]> {
  const records: ConsumerRecord<K, V>[] = [];
  const deadline = Date.now() + withinMs;
  while (!done(records)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms (${records.length} records polled)`);
    records.push(...await consumer.poll(100));
  }
  return records;
}

/** Polls every consumer in turn until `done()` holds, at most withinMs. */
export async function pollAllUntil(consumers: readonly Consumer<unknown, unknown>[], done: () => boolean, withinMs = 10_000, onRecords?: (index: number, records: ConsumerRecord<unknown, unknown>[]) => void): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms`);
    const polled = await Promise.all(consumers.map((c) => c.poll(50)));
    polled.forEach((records, i) => onRecords?.(i, records));
  }
}

export const values = (records: readonly ConsumerRecord<unknown, unknown>[]): string[] => records.map((r) => String(r.value));
export const tps = (list: readonly { topic: string; partition: number }[]): string[] => list.map((tp) => `${tp.topic}-${tp.partition}`).sort();
