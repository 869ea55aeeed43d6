// The idempotent producer against a real broker worker and log writer, over the embedded
// transport: InitProducerId, duplicates (sent again, and pipelined while the first is in flight),
// sequence gaps, fencing, and all of it across clean restarts and killed brokers.
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import type { KafkaClient } from '../../src/actors/kafka-client.js';
import { withTimeout } from '../../src/shared/deadline.js';
import { ApiKeys, ErrorCodes } from '../../src/shared/protocol/index.js';
import { RecordBatchBuilder } from '../../src/shared/record-batch/builder.js';
import { RecordBatchScanner } from '../../src/shared/record-batch/scanner.js';
import { memoryLogger } from '../actors/helpers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';

// Decoded bodies, indexed freely by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

const tempDir = useTempDirs();
const clusters: Cluster[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()));
});
const T0 = 1_700_000_000_000;

async function start(dataDir: string): Promise<{ cluster: Cluster; client: KafkaClient }> {
  const cluster = await startCluster({ dataDir, logger: memoryLogger().logger });
  clusters.push(cluster);
  return { cluster, client: await cluster.client() };
}

/** A graceful stop: in-flight work finishes, producer state is snapshotted. */
async function stop(cluster: Cluster): Promise<void> {
  clusters.splice(clusters.indexOf(cluster), 1);
  await cluster.close();
}

/** Kills the broker worker as a crash would and waits (bounded) for the supervisor to restart it. */
async function killAndRestart(cluster: Cluster): Promise<KafkaClient> {
  const restarted = new Promise((resolve) => cluster.supervisor.once('restart', resolve));
  await cluster.broker(0).kill();
  await withTimeout(restarted, 10_000, 'ERR_TEST_TIMEOUT', 'the supervisor did not restart the killed broker');
  return cluster.client();
}

const initProducerId = async (client: KafkaClient, body: Body = {}, version?: number): Promise<Body> =>
  (await client.request(ApiKeys.INIT_PRODUCER_ID, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1, ...body }, { version })) as Body;

/** What an idempotent producer sends: `count` records from sequence `baseSequence`. */
function sent(producerId: bigint, producerEpoch: number, baseSequence: number, count: number): Buffer {
  const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(4_096), producerId: Number(producerId), producerEpoch, baseSequence });
  for (let i = 0; i < count; i++) builder.tryAppend({ timestamp: T0 + baseSequence + i, key: null, value: Buffer.from(`record ${baseSequence + i}`) });
  return Buffer.from(builder.build());
}

/** A plain batch, no producer id. */
function plain(count: number): Buffer {
  const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(4_096) });
  for (let i = 0; i < count; i++) builder.tryAppend({ timestamp: T0 + i, key: null, value: Buffer.from(`plain ${i}`) });
  return Buffer.from(builder.build());
}

async function produce(client: KafkaClient, topic: string, records: Uint8Array): Promise<Body> {
  const answer = (await client.request(ApiKeys.PRODUCE, { transactionalId: null, acks: -1, timeoutMs: 5_000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] })) as Body;
  return answer.responses[0].partitionResponses[0];
}

/** Every batch in partition 0 of `topic`, fetched back: base offset, producer id and base sequence. */
async function logged(client: KafkaClient, topic: string): Promise<[number, number, number][]> {
  const metadata = (await client.request(ApiKeys.METADATA, { topics: [{ name: topic }], allowAutoTopicCreation: false })) as Body;
  const fetched = (await client.request(ApiKeys.FETCH, {
    maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20,
    topics: [{ topicId: metadata.topics[0].topicId, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
  })) as Body;
  const partition = fetched.responses[0].partitions[0];
  expect(partition.errorCode).toBe(0);
  return [...new RecordBatchScanner(partition.records)].map((b) => [b.baseOffset, b.producerId, b.baseSequence]);
}

async function createTopic(client: KafkaClient, name: string): Promise<void> {
  const created = (await client.request(ApiKeys.CREATE_TOPICS, { topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5_000, validateOnly: false })) as Body;
  expect(created.topics[0].errorCode).toBe(0);
}

describe('broker, idempotent producers', () => {
  it('hands out distinct producer ids and never one again, after a clean restart or a kill', async () => {
    const dataDir = tempDir();
    const { cluster, client } = await start(dataDir);
    expect(client.version(ApiKeys.INIT_PRODUCER_ID)).toBe(5);
    const first = [await initProducerId(client), await initProducerId(client, {}, 0), await initProducerId(client, {}, 3)];
    expect(first.map((a) => [a.errorCode, a.producerEpoch])).toEqual([[0, 0], [0, 0], [0, 0]]);
    await stop(cluster);
    const { cluster: again, client: againClient } = await start(dataDir);
    const afterRestart = await initProducerId(againClient);
    const afterKill = await initProducerId(await killAndRestart(again));
    const ids = [...first.map((a) => a.producerId), afterRestart.producerId, afterKill.producerId];
    expect(new Set(ids).size).toBe(ids.length);
    expect(afterRestart.producerId).toBeGreaterThan(first[2]!.producerId);
    expect(afterKill.producerId).toBeGreaterThan(afterRestart.producerId);
  });

  it('bumps the epoch when a producer re-initialises, and fences its old epoch', async () => {
    const { client } = await start(tempDir());
    await createTopic(client, 'fenced');
    const { producerId } = await initProducerId(client);
    expect(await produce(client, 'fenced', sent(producerId, 0, 0, 2))).toMatchObject({ errorCode: 0, baseOffset: 0n });
    expect(await initProducerId(client, { producerId, producerEpoch: 0 })).toMatchObject({ errorCode: 0, producerId, producerEpoch: 1 });
    expect(await produce(client, 'fenced', sent(producerId, 1, 0, 1))).toMatchObject({ errorCode: 0, baseOffset: 2n });
    expect(await produce(client, 'fenced', sent(producerId, 0, 2, 1))).toMatchObject({ errorCode: ErrorCodes.INVALID_PRODUCER_EPOCH });
    expect(await initProducerId(client, { producerId, producerEpoch: 5 })).toMatchObject({ errorCode: ErrorCodes.PRODUCER_FENCED });
    expect(await initProducerId(client, { producerId, producerEpoch: 5 }, 3)).toMatchObject({ errorCode: ErrorCodes.INVALID_PRODUCER_EPOCH });
    expect(await initProducerId(client, { transactionalId: 'txn' })).toMatchObject({ errorCode: ErrorCodes.TRANSACTIONAL_ID_AUTHORIZATION_FAILED });
    expect(await logged(client, 'fenced')).toEqual([[0, Number(producerId), 0], [2, Number(producerId), 0]]);
  });

  it('writes a batch sent twice once and answers both with its offset, also when pipelined behind it', async () => {
    const { client } = await start(tempDir());
    await createTopic(client, 'once');
    const { producerId } = await initProducerId(client);
    const first = await produce(client, 'once', sent(producerId, 0, 0, 3));
    const again = await produce(client, 'once', sent(producerId, 0, 0, 3));
    expect(first).toMatchObject({ errorCode: 0, baseOffset: 0n, logAppendTimeMs: -1n });
    expect(again).toMatchObject({ errorCode: 0, baseOffset: 0n, logAppendTimeMs: BigInt(T0 + 2), logStartOffset: 0n });
    // Pipelined on one connection: the retry reaches the broker while its original is on its way to the log writer.
    const [original, retry, next] = await Promise.all([
      produce(client, 'once', sent(producerId, 0, 3, 2)),
      produce(client, 'once', sent(producerId, 0, 3, 2)),
      produce(client, 'once', sent(producerId, 0, 5, 1)),
    ]);
    expect([original.baseOffset, retry.baseOffset, next.baseOffset]).toEqual([3n, 3n, 5n]);
    expect([original.errorCode, retry.errorCode, next.errorCode]).toEqual([0, 0, 0]);
    // Batches without a producer id are not deduplicated: the same bytes twice are two copies.
    expect((await produce(client, 'once', plain(2))).baseOffset).toBe(6n);
    expect((await produce(client, 'once', plain(2))).baseOffset).toBe(8n);
    const p = Number(producerId);
    expect(await logged(client, 'once')).toEqual([[0, p, 0], [3, p, 3], [5, p, 5], [6, -1, -1], [8, -1, -1]]);
  });

  it('refuses an out-of-order sequence and appends nothing', async () => {
    const { client } = await start(tempDir());
    await createTopic(client, 'gaps');
    const { producerId } = await initProducerId(client);
    await produce(client, 'gaps', sent(producerId, 0, 0, 3));
    expect(await produce(client, 'gaps', sent(producerId, 0, 4, 1))).toMatchObject({ errorCode: ErrorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER, baseOffset: -1n });
    expect(await produce(client, 'gaps', sent(producerId, 0, 3, 1))).toMatchObject({ errorCode: 0, baseOffset: 3n });
    expect(await logged(client, 'gaps')).toEqual([[0, Number(producerId), 0], [3, Number(producerId), 3]]);
  });

  it('still recognises retries after a clean restart and after the broker was killed', async () => {
    const dataDir = tempDir();
    const { cluster, client } = await start(dataDir);
    await createTopic(client, 'durable');
    const { producerId } = await initProducerId(client);
    await produce(client, 'durable', sent(producerId, 0, 0, 4));
    await stop(cluster);

    const { cluster: restarted, client: afterRestart } = await start(dataDir);
    expect(await produce(afterRestart, 'durable', sent(producerId, 0, 0, 4))).toMatchObject({ errorCode: 0, baseOffset: 0n });
    expect(await produce(afterRestart, 'durable', sent(producerId, 0, 4, 2))).toMatchObject({ errorCode: 0, baseOffset: 4n });

    const afterKill = await killAndRestart(restarted);
    expect(await produce(afterKill, 'durable', sent(producerId, 0, 4, 2))).toMatchObject({ errorCode: 0, baseOffset: 4n });
    expect(await produce(afterKill, 'durable', sent(producerId, 0, 0, 4))).toMatchObject({ errorCode: 0, baseOffset: 0n });
    expect(await produce(afterKill, 'durable', sent(producerId, 0, 7, 1))).toMatchObject({ errorCode: ErrorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(await produce(afterKill, 'durable', sent(producerId, 0, 6, 1))).toMatchObject({ errorCode: 0, baseOffset: 6n });
    const p = Number(producerId);
    expect(await logged(afterKill, 'durable')).toEqual([[0, p, 0], [4, p, 4], [6, p, 6]]);
  });
});
