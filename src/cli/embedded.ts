/**
 * The embedded broker the consumer tools run against: a cluster in a temporary directory (or a
 * given one), a topic created with the partitions asked for, and a fill of N records of S bytes
 * written with the Producer (callback form, waiting when its memory is full).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startCluster, type Cluster } from '../actors/cluster.js';
import { kafkaError } from '../shared/protocol/error-codes.js';
import { ApiKeys, ErrorCodes } from '../shared/protocol/index.js';

export interface EmbeddedBroker {
  cluster: Cluster;
  close(): Promise<void>;
}

/** group.initial.rebalance.delay.ms 0, as Kafka's shipped server.properties sets it for tools and tests. */
export async function startEmbedded(dataDir: string | undefined, prefix: string): Promise<EmbeddedBroker> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), `ringlog-${prefix}-`));
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const cluster = await startCluster({ dataDir: dir, logger, brokerConfig: { 'group.initial.rebalance.delay.ms': 0 } });
  return {
    cluster,
    async close() {
      await cluster.close();
      if (dataDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createTopic(cluster: Cluster, topic: string, partitions: number): Promise<void> {
  const client = await cluster.client();
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

/** Kafka's perf payload: `sizeBytes` letters. */
export function payload(sizeBytes: number): Buffer {
  const value = Buffer.alloc(sizeBytes);
  for (let i = 0; i < value.length; i++) value[i] = 0x41 + (i % 26);
  return value;
}

/** Writes `count` records of `value` round-robin over the partitions, acks=1, and waits for every acknowledgement. */
export async function fill(cluster: Cluster, topic: string, partitions: number, count: number, value: Buffer): Promise<void> {
  const producer = await cluster.producer({ acks: '1', 'enable.idempotence': false, 'linger.ms': 5, 'batch.size': 65_536 });
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
