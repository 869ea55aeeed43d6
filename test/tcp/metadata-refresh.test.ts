import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import { createConsumer, createProducer } from '../../src/actors/tcp-clients.js';
import { partitionForKey } from '../../src/shared/partitioner.js';
import { ApiKeys, ErrorCodes, ZERO_UUID } from '../../src/shared/protocol/index.js';
import { memoryLogger } from '../actors/helpers.js';
import { pollUntil } from '../actors/consumers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { storedBatches, storedRecords } from './read-partition.js';
import { requestLogProxy } from './request-log-proxy.js';
import { logged, until } from './wait.js';

const tempDir = useTempDirs();
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function cluster(brokerConfig: Record<string, unknown> = {}): Promise<{ cluster: Cluster; lines: ReturnType<typeof memoryLogger>['lines'] }> {
  const { logger, lines } = memoryLogger();
  const c = await startCluster({ dataDir: tempDir(), logger, port: brokerConfig.listeners === undefined ? 0 : undefined, brokerConfig });
  open.push(c);
  return { cluster: c, lines };
}

async function admin(c: Cluster, apiKey: number, body: Record<string, unknown>): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const client = await c.client();
  try {
    return await client.request(apiKey, body);
  } finally {
    client.close();
  }
}

const createTopic = async (c: Cluster, name: string, numPartitions: number): Promise<void> => {
  const answer = await admin(c, ApiKeys.CREATE_TOPICS, { topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  expect(answer.topics[0].errorCode).toBe(ErrorCodes.NONE);
};
const deleteTopic = async (c: Cluster, name: string): Promise<void> => {
  const answer = await admin(c, ApiKeys.DELETE_TOPICS, { topicNames: [name], topics: [{ name, topicId: ZERO_UUID }], timeoutMs: 10_000 });
  expect(answer.responses[0].errorCode).toBe(ErrorCodes.NONE);
};

/** A key the murmur2 partitioner puts on `partition` of `numPartitions`. */
function keyFor(partition: number, numPartitions: number): string {
  for (let i = 0; ; i++) if (partitionForKey(Buffer.from(`key-${i}`), numPartitions) === partition) return `key-${i}`;
}

describe('metadata.max.age.ms over TCP', () => {
  it('the consumer\'s fetcher asks for its leaders again at least every metadata.max.age.ms while it fetches, with nothing failing', async () => {
    // Every connection, bootstrap and leader, goes through a proxy that lists the requests.
    const proxy = await requestLogProxy();
    open.push(proxy);
    const { cluster: c, lines } = await cluster({ listeners: 'PLAINTEXT://127.0.0.1:0', 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` });
    proxy.forwardTo(Number(((await logged(lines, 'listening for Kafka clients')).listening as string).split(':')[1]));
    await createTopic(c, 'aged', 1);
    const { logger: consumerLogger, lines: consumerLines } = memoryLogger();
    const consumer = await createConsumer({ bootstrapServers: `127.0.0.1:${proxy.port}`, logger: consumerLogger, 'metadata.max.age.ms': 200, 'fetch.max.wait.ms': 50 });
    open.push({ close: () => consumer.close(5_000) });
    consumer.assign([{ topic: 'aged', partition: 0 }]);
    consumer.seekToBeginning();
    const producer = await c.producer({ 'linger.ms': 0 });
    await producer.send({ topic: 'aged', value: Buffer.from('one') });
    await producer.close();
    expect((await pollUntil(consumer, (r) => r.length >= 1, 10_000)).map((r) => r.value!.toString())).toEqual(['one']);
    const metadataForAged = (): number => proxy.requests.filter((r) => r.apiKey === ApiKeys.METADATA && (r.body.topics ?? []).some((t: { name: string }) => t.name === 'aged')).length;
    const fetches = (): number => proxy.requests.filter((r) => r.apiKey === ApiKeys.FETCH).length;
    const seen = { metadata: metadataForAged(), fetches: fetches() };
    await until('three more Metadata requests for the assigned topic', () => metadataForAged() >= seen.metadata + 3, 10_000);
    // Fetching went on meanwhile, and nothing failed that would have asked for metadata.
    expect(fetches()).toBeGreaterThan(seen.fetches);
    expect(consumerLines.filter((l) => l.level >= 40)).toEqual([]);
  }, 30_000);

  it('the producer finds the partitions of a topic recreated with more, within metadata.max.age.ms and without an error', async () => {
    const { cluster: c } = await cluster();
    await createTopic(c, 'grows', 1);
    // Idempotence off: a recreated partition has no state for this producer id, which is another story.
    const producer = await createProducer<string, string>({
      bootstrapServers: c.bootstrapServers, logger: memoryLogger().logger, keySerializer: 'string', valueSerializer: 'string',
      'linger.ms': 0, acks: '1', 'enable.idempotence': false, 'metadata.max.age.ms': 200,
    });
    open.push({ close: () => producer.close(5_000) });
    const key = keyFor(3, 4);
    expect((await producer.send({ topic: 'grows', key, value: 'before' })).partition).toBe(0);
    await deleteTopic(c, 'grows');
    await createTopic(c, 'grows', 4);
    const partitions: number[] = [];
    await until('a record with the key on partition 3', async () => {
      partitions.push((await producer.send({ topic: 'grows', key, value: `after ${partitions.length}` })).partition);
      return partitions.at(-1) === 3;
    }, 10_000);
    // Each send succeeded: first on partition 0 (which the new topic has too), then where the key belongs among 4.
    expect(new Set(partitions)).toEqual(new Set(partitions.length === 1 ? [3] : [0, 3]));
    expect(storedRecords(await storedBatches(c.bootstrapServers, 'grows', 3)).map((r) => r.value!.toString())).toEqual([`after ${partitions.length - 1}`]);
  }, 30_000);
});

describe('UNKNOWN_TOPIC_OR_PARTITION over TCP', () => {
  it('a deleted topic: the producer\'s next sends refresh metadata (auto-creating it) and succeed; the consumer finds it again', async () => {
    const { cluster: c } = await cluster();
    await createTopic(c, 'doomed', 1);
    const producer = await createProducer<string, string>({
      bootstrapServers: c.bootstrapServers, logger: memoryLogger().logger, valueSerializer: 'string', 'linger.ms': 0, 'retry.backoff.ms': 20, // idempotent, Kafka's default
    });
    open.push({ close: () => producer.close(5_000) });
    const { logger: consumerLogger, lines: consumerLines } = memoryLogger();
    const consumer = await createConsumer({ bootstrapServers: c.bootstrapServers, logger: consumerLogger, 'auto.offset.reset': 'earliest', 'fetch.max.wait.ms': 50, 'retry.backoff.ms': 20, 'retry.backoff.max.ms': 100 });
    open.push({ close: () => consumer.close(5_000) });
    consumer.assign([{ topic: 'doomed', partition: 0 }]);
    consumer.seekToBeginning();

    await Promise.all(Array.from({ length: 50 }, (_, i) => producer.send({ topic: 'doomed', value: `old ${i}` })));
    expect(await pollUntil(consumer, (r) => r.length >= 50, 10_000)).toHaveLength(50);
    await deleteTopic(c, 'doomed');
    // The fetcher's next fetch is refused; the metadata it then asks for says the topic is gone.
    await until('the consumer to see the topic gone', () => consumerLines.some((l) => l.msg === 'no metadata for an assigned topic; retrying' && l.errorCode === ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION), 10_000);

    // The producer's metadata still names the old topic: Produce gets UNKNOWN_TOPIC_OR_PARTITION,
    // the sender asks for metadata (allowing auto-creation, as Kafka's producer does) and retries.
    const after = await Promise.all(Array.from({ length: 80 }, (_, i) => producer.send({ topic: 'doomed', value: `new ${i}` })));
    expect(after.map((m) => m.offset)).toEqual(Array.from({ length: 80 }, (_, i) => i));
    const topics = await admin(c, ApiKeys.METADATA, { topics: [{ name: 'doomed' }], allowAutoTopicCreation: false });
    expect(topics.topics[0]).toMatchObject({ errorCode: ErrorCodes.NONE, partitions: [expect.objectContaining({ partitionIndex: 0 })] });
    // The consumer reads on in the new log: from offset 50 if the log had reached it by its next
    // fetch, else from the start after OFFSET_OUT_OF_RANGE (as Kafka's consumer, without topic ids).
    const read = await pollUntil(consumer, (r) => r.at(-1)?.value?.toString() === 'new 79', 10_000);
    const from = read[0]!.offset;
    expect([0, 50]).toContain(from);
    expect(read.map((r) => `${r.offset}:${r.value!.toString()}`)).toEqual(Array.from({ length: 80 - from }, (_, i) => `${from + i}:new ${from + i}`));
  }, 30_000);
});
