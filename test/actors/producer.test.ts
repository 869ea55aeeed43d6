import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import type { KafkaClient } from '../../src/actors/kafka-client.js';
import type { Producer, ProducerConfig, ProducerRecord, RecordMetadata } from '../../src/actors/producer.js';
import { IllegalStateError, RecordTooLargeError, RinglogError, SerializationError, TimeoutError } from '../../src/shared/errors.js';
import { ApiKeys } from '../../src/shared/protocol/index.js';
import { Compression, readBatchHeader, readRecords, scanBatches, type ReadRecord } from '../../src/shared/record-batch/index.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { memoryLogger } from './helpers.js';

const tempDir = useTempDirs();
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function cluster(brokerConfig: Record<string, unknown> = {}): Promise<{ cluster: Cluster; logs: ReturnType<typeof memoryLogger> }> {
  const logs = memoryLogger();
  const c = await startCluster({ dataDir: tempDir(), logger: logs.logger, brokerConfig });
  open.push(c);
  return { cluster: c, logs };
}

async function producer<K = unknown, V = unknown>(c: Cluster, config: ProducerConfig<K, V> = {}): Promise<Producer<K, V>> {
  const p = await c.producer<K, V>({ 'enable.idempotence': false, acks: '1', ...config });
  open.push({ close: () => p.close({ force: true }) });
  return p;
}

async function createTopic(client: KafkaClient, name: string, numPartitions: number): Promise<void> {
  const answer = await client.request(ApiKeys.CREATE_TOPICS, { topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5_000, validateOnly: false }) as { topics: { errorCode: number }[] };
  expect(answer.topics[0]!.errorCode).toBe(0);
}

/** Every record of a partition, read back with Fetch from offset 0. */
async function readPartition(client: KafkaClient, topic: string, partition: number): Promise<(ReadRecord & { offset: number; producerEpoch: number; compression: number })[]> {
  const records: (ReadRecord & { offset: number; producerEpoch: number; compression: number })[] = [];
  let offset = 0n;
  for (;;) {
    const answer = await client.request(ApiKeys.FETCH, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 64 << 20, isolationLevel: 0,
      topics: [{ topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 64 << 20 }] }],
    }, { version: 12 }) as { responses: { partitions: { errorCode: number; records: Uint8Array | null; highWatermark: bigint }[] }[] };
    const p = answer.responses[0]!.partitions[0]!;
    expect(p.errorCode).toBe(0);
    if (p.records === null || p.records.length === 0) return records;
    for (const { position } of scanBatches(p.records)) {
      const header = readBatchHeader(p.records, position);
      for (const record of readRecords(header)) records.push({ ...record, offset: Number(header.baseOffset) + record.offsetDelta, producerEpoch: header.producerEpoch, compression: header.compression });
      offset = BigInt(header.baseOffset) + BigInt(header.lastOffsetDelta) + 1n;
    }
    if (offset >= p.highWatermark) return records;
  }
}

/** Polls a condition until it holds, failing after timeoutMs (a bounded wait, not a sleep). */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes).toString());

describe('Producer', () => {
  it('acknowledges each record with the offset it is readable at, promise and callback alike', async () => {
    const { cluster: c } = await cluster();
    const p = await producer(c, { 'linger.ms': 2 });
    const first = await p.send({ topic: 'orders', key: 'k0', value: 'v0', headers: { trace: 'abc', multi: ['1', '2'] }, timestamp: 1_700_000_000_000 });
    expect(first).toEqual({ topic: 'orders', partition: 0, offset: 0, timestamp: 1_700_000_000_000, serializedKeySize: 2, serializedValueSize: 2 });
    const acked: RecordMetadata[] = [];
    const n = 5_000;
    await new Promise<void>((resolve, reject) => {
      for (let i = 1; i <= n; i++) {
        p.send({ topic: 'orders', key: `k${i}`, value: `v${i}` }, (error, metadata) => {
          if (error !== null) reject(error);
          acked.push(metadata!);
          if (acked.length === n) resolve();
        });
      }
    });
    const client = await c.client();
    const log = await readPartition(client, 'orders', 0);
    expect(log).toHaveLength(n + 1);
    expect(log[0]!.headers.map((h) => `${h.key}=${text(h.value)}`)).toEqual(['trace=abc', 'multi=1', 'multi=2']);
    for (const metadata of acked) {
      const record = log[metadata.offset]!;
      expect(record.offset).toBe(metadata.offset);
      expect(text(record.value)).toBe(`v${text(record.key)!.slice(1)}`);
    }
    // Callbacks of one partition come in send order, and so do the offsets.
    expect(acked.map((m) => m.offset)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    client.close();
  });

  it('sends a lingering batch queued behind a full one, without a flush', async () => {
    const { cluster: c } = await cluster();
    const p = await producer(c, { 'linger.ms': 20, 'batch.size': 1_024 });
    await p.send({ topic: 'linger', value: 'warm-up' });
    // ~9 records fill a batch: 20 records make two full batches and a partial one in one turn.
    const sends = Array.from({ length: 20 }, (_, i) => p.send({ topic: 'linger', value: Buffer.alloc(100, i) }));
    expect((await Promise.all(sends)).map((m) => m.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("puts keyed records on Kafka's partitions for the murmur2 vectors (3 and 10 partitions)", async () => {
    const { cluster: c } = await cluster();
    const client = await c.client();
    await createTopic(client, 'three', 3);
    await createTopic(client, 'ten', 10);
    const p = await producer(c);
    // [key, partition of 3, partition of 10], from Kafka's UtilsTest vectors (test/shared/murmur2.test.ts)
    const vectors: [Uint8Array, number, number][] = [
      [Buffer.from('21'), 0, 0], [Buffer.from('foobar'), 0, 6], [Buffer.from('a-little-bit-long-string'), 2, 2],
      [Buffer.from('a-little-bit-longer-string'), 2, 9], [Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), 2, 7],
      [Uint8Array.of(0x61, 0x62, 0x63), 0, 7],
    ];
    for (const [key, of3, of10] of vectors) {
      expect((await p.send({ topic: 'three', key, value: 'x' })).partition).toBe(of3);
      expect((await p.send({ topic: 'ten', key, value: 'x' })).partition).toBe(of10);
    }
    client.close();
  });

  it('refuses bad records with errors that name the problem, and goes on sending', async () => {
    const { cluster: c } = await cluster();
    const p = await producer(c, { 'max.request.size': 10_000, 'buffer.memory': 1 << 20, 'batch.size': 16_384 });
    await expect(p.send({ topic: 'bad', value: Buffer.alloc(20_000) })).rejects.toThrow(RecordTooLargeError);
    await expect(p.send({ topic: 'bad', value: Buffer.alloc(20_000) })).rejects.toMatchObject({ setting: 'max.request.size' });
    await expect(p.send({ topic: 'bad', partition: 7, value: 'x' })).rejects.toThrow("partition 7 is not one of topic bad's 1 partitions");
    await expect(p.send({ topic: '', value: 'x' })).rejects.toThrow('record.topic must be a non-empty string');
    await expect(p.send({ topic: 'bad', value: 42 as unknown as string })).rejects.toThrow(SerializationError);
    await expect(p.send({ topic: 'bad', value: 'x', timestamp: -5 })).rejects.toThrow('record.timestamp');
    await expect(p.send({ topic: 'not/valid', value: 'x' })).rejects.toMatchObject({ errorName: 'INVALID_TOPIC_EXCEPTION' });
    expect((await p.send({ topic: 'bad', value: 'fine' })).offset).toBe(0);

    const big = await producer(c, { 'max.request.size': 4 << 20, 'buffer.memory': 1 << 20, 'batch.size': 16_384 });
    await expect(big.send({ topic: 'bad', value: Buffer.alloc(2 << 20) })).rejects.toMatchObject({ setting: 'buffer.memory' });
  });

  it.each(['gzip', 'snappy', 'lz4', 'zstd'])('compresses batches with compression.type=%s in the pool, readable as sent', async (codec) => {
    const { cluster: c } = await cluster();
    const p = await producer(c, { 'compression.type': codec, 'linger.ms': 5 });
    const sends = Array.from({ length: 500 }, (_, i) => p.send({ topic: 'squeezed', key: `k${i}`, value: `value ${i} `.repeat(10) }));
    expect((await Promise.all(sends)).map((m) => m.offset)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    const client = await c.client();
    const log = await readPartition(client, 'squeezed', 0);
    client.close();
    expect(log.map((r) => text(r.value))).toEqual(Array.from({ length: 500 }, (_, i) => `value ${i} `.repeat(10)));
    expect(new Set(log.map((r) => r.compression))).toEqual(new Set([Compression[codec as keyof typeof Compression]]));
  });

  it('serializes with string, json and function serializers', async () => {
    const { cluster: c } = await cluster();
    const p = await producer<string, { n: number }>(c, { keySerializer: 'string', valueSerializer: 'json' });
    await p.send({ topic: 'json', key: 'a', value: { n: 1 } });
    const f = await producer<number, number>(c, { keySerializer: (n: number) => Buffer.from([n]), valueSerializer: (n: number) => Buffer.from(String(n * 2)) });
    await f.send({ topic: 'json', key: 7, value: 21 });
    const client = await c.client();
    const log = await readPartition(client, 'json', 0);
    expect(log.map((r) => [[...r.key!], text(r.value)])).toEqual([[[0x61], '{"n":1}'], [[7], '42']]);
    client.close();
  });

  it('skips and logs interceptors that throw, and never breaks a send', async () => {
    const { cluster: c, logs } = await cluster();
    const seen: string[] = [];
    const p = await producer(c, {
      interceptors: [
        { onSend: () => { throw new Error('onSend boom'); }, onAcknowledgement: () => { throw new Error('onAck boom'); } },
        { onSend: (r: ProducerRecord) => ({ ...r, value: `${String(r.value)}!` }), onAcknowledgement: (m: RecordMetadata | null, e: Error | null) => seen.push(`${m?.offset}:${e}`) },
      ],
    });
    const metadata = await p.send({ topic: 'hooks', value: 'hi' });
    expect(metadata.serializedValueSize).toBe(3);
    expect(seen).toEqual(['0:null']);
    expect(logs.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['an onSend interceptor threw; skipped', 'an onAcknowledgement interceptor threw; skipped']));
  });

  it('answers acks=0 sends with offset -1 and still delivers them', async () => {
    const { cluster: c } = await cluster();
    const p = await producer(c, { acks: '0' });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => p.send({ topic: 'fire', value: `${i}` })));
    expect(results.every((m) => m.offset === -1)).toBe(true);
    await p.close();
    const q = await producer(c, { acks: '1' });
    expect((await q.send({ topic: 'fire', value: 'last' })).offset).toBe(100); // the acks=0 records went first
  });

  it('waits for memory while the broker stalls, fails after max.block.ms, and loses nothing it acknowledged', async () => {
    const { cluster: c } = await cluster();
    const p = await producer(c, { 'buffer.memory': 1 << 20, 'batch.size': 16_384, 'max.block.ms': 300, 'linger.ms': 0, 'request.timeout.ms': 60_000 });
    await p.send({ topic: 'stall', value: 'warm-up' });
    await c.broker(0).pause();
    const value = Buffer.alloc(1_000, 1);
    const outcomes: (RecordMetadata | Error)[] = [];
    const sent: number[] = [];
    let blocked = false;
    for (let i = 0; i < 3_000; i++) {
      const accepted = p.send({ topic: 'stall', value, key: String(i) }, (error, metadata) => outcomes[i] = error ?? metadata!);
      sent.push(i);
      if (!accepted) {
        blocked = true;
        break;
      }
    }
    expect(blocked).toBe(true); // 1 MiB holds ~1,000 records of 1 KB: send had to wait
    expect(p.metrics()).toMatchObject({ bufferTotalBytes: 1 << 20, waitingSends: 1 });
    expect(p.metrics().bufferAvailableBytes).toBeLessThan(16_384);
    await p.drained();
    const failed = outcomes.filter((o) => o instanceof TimeoutError) as TimeoutError[];
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.code).toBe('ERR_BUFFER_POOL_TIMEOUT');
    await c.broker(0).resume();
    await p.flush(30_000);
    const acked = outcomes.filter((o): o is RecordMetadata => o !== undefined && !(o instanceof Error));
    expect(acked.length + failed.length).toBe(sent.length);
    const client = await c.client();
    const log = await readPartition(client, 'stall', 0);
    expect(log.length).toBe(acked.length + 1); // nothing duplicated, nothing acknowledged lost
    outcomes.forEach((o, i) => {
      if (!(o instanceof Error)) expect(text(log[o.offset]!.key)).toBe(String(i));
    });
    client.close();
  });

  it('fails records with ERR_DELIVERY_TIMEOUT when the broker stays silent past delivery.timeout.ms', async () => {
    const { cluster: c } = await cluster();
    const p = await producer(c, { 'linger.ms': 0, 'request.timeout.ms': 200, 'delivery.timeout.ms': 600, 'retry.backoff.ms': 50 });
    await p.send({ topic: 'silent', value: 'warm-up' });
    await c.broker(0).pause();
    const started = Date.now();
    const error = await p.send({ topic: 'silent', value: 'lost?' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).code).toBe('ERR_DELIVERY_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    await c.broker(0).resume();
  });

  it.each([
    ['with idempotence, a resent batch is stored once and order holds', true],
    ['without idempotence, a resent batch whose first answer was lost is stored twice (as in Kafka)', false],
  ])('%s', async (_name, idempotent) => {
    const { cluster: c, logs } = await cluster();
    const config = idempotent ? { 'enable.idempotence': true, acks: 'all' } : { 'enable.idempotence': false, acks: '1' };
    const p = await producer(c, { ...config, logger: logs.logger.child({}, { level: 'debug' }), 'linger.ms': 0, 'request.timeout.ms': 250, 'retry.backoff.ms': 20, 'retry.backoff.max.ms': 50 });
    await p.send({ topic: 'retries', value: 'warm-up' });
    await c.broker(0).pause(); // requests wait; the producer's time out and are sent again
    const sends = Array.from({ length: 30 }, (_, i) => p.send({ topic: 'retries', value: `r${i}` }));
    await waitFor(() => logs.lines.filter((l) => l.msg === 'retrying batch').length >= 2, 10_000);
    await c.broker(0).resume(); // now the originals and their retries all arrive
    const acked = await Promise.all(sends);
    const client = await c.client();
    const values = (await readPartition(client, 'retries', 0)).map((r) => text(r.value));
    client.close();
    if (idempotent) {
      expect(values).toEqual(['warm-up', ...Array.from({ length: 30 }, (_, i) => `r${i}`)]);
      expect(acked.map((m) => m.offset)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    } else {
      expect(values.length).toBeGreaterThan(31);
    }
  });

  it('bumps the epoch after a batch fails for good, so idempotent sends go on', async () => {
    const { cluster: c } = await cluster();
    const p = await producer(c, { 'enable.idempotence': true, acks: 'all', 'linger.ms': 0, 'request.timeout.ms': 200, 'delivery.timeout.ms': 500, 'retry.backoff.ms': 50 });
    await p.send({ topic: 'epochs', value: 'before' });
    await c.broker(0).pause();
    await expect(p.send({ topic: 'epochs', value: 'timed out' })).rejects.toMatchObject({ code: 'ERR_DELIVERY_TIMEOUT' });
    await c.broker(0).resume();
    // Its sequence is unresolved (it may or may not be in the log): a new epoch starts at sequence 0.
    const after = await p.send({ topic: 'epochs', value: 'after' });
    const client = await c.client();
    const log = await readPartition(client, 'epochs', 0);
    const values = log.map((r) => text(r.value));
    client.close();
    expect(log.at(-1)!.producerEpoch).toBe(log[0]!.producerEpoch + 1);
    expect(values.at(-1)).toBe('after');
    expect(values[after.offset]).toBe('after');
    expect(values.filter((v) => v === 'after')).toHaveLength(1);
  });

  it('flushes, closes, refuses sends after close, and fails what is pending on a forced close', async () => {
    const { cluster: c } = await cluster();
    const p = await producer(c, { 'linger.ms': 60_000 });
    const pending = Array.from({ length: 10 }, (_, i) => p.send({ topic: 'closing', value: `${i}` }));
    await p.flush(10_000); // linger.ms is a minute: flush sends anyway
    expect((await Promise.all(pending)).map((m) => m.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const last = p.send({ topic: 'closing', value: 'last' });
    await p.close(10_000);
    expect((await last).offset).toBe(10);
    await expect(p.send({ topic: 'closing', value: 'late' })).rejects.toThrow(IllegalStateError);

    const q = await producer(c, { 'linger.ms': 0 });
    await q.send({ topic: 'closing', value: 'x' });
    await c.broker(0).pause();
    const stuck = q.send({ topic: 'closing', value: 'never' }).catch((e: unknown) => e);
    await q.close({ force: true });
    expect(await stuck).toBeInstanceOf(RinglogError);
    expect(await stuck).toMatchObject({ code: 'ERR_PRODUCER_CLOSED' });
    await c.broker(0).resume();
  });
});
