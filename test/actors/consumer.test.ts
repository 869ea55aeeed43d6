import { describe, expect, it } from 'vitest';
import { consumerWorkers, type ConsumerRecord } from '../../src/actors/consumer.js';
import { IllegalStateError, InvalidGroupIdError, PartitionOffsetError, SerializationError } from '../../src/shared/errors.js';
import { ConsumerSlot } from '../../src/shared/layout.js';
import { createTopic, pollUntil, produce, useConsumerTests, values } from './consumers.js';

const { start, consumer } = useConsumerTests();

describe('Consumer: reading partitions', () => {
  it('returns every record in offset order per partition, at most max.poll.records per poll, with the record fields', async () => {
    const { cluster, client } = await start();
    await createTopic(await client(), 'orders', 2);
    await produce(cluster, 'orders', 400, { partitions: 2 });
    const c = await consumer<Buffer | null, string>(cluster, { 'max.poll.records': 50, valueDeserializer: 'string' });
    c.assign([{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }]);
    const sizes: number[] = [];
    const records: ConsumerRecord<Buffer | null, string>[] = [];
    while (records.length < 400) {
      const polled = await c.poll(1_000);
      expect(polled.length).toBeLessThanOrEqual(50);
      sizes.push(polled.length);
      records.push(...polled);
    }
    for (const partition of [0, 1]) {
      const mine = records.filter((r) => r.partition === partition);
      expect(mine.map((r) => r.offset)).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(mine.map((r) => r.value)).toEqual(Array.from({ length: 200 }, (_, i) => `r-${2 * i + partition}`));
    }
    expect(records[0]).toMatchObject({ topic: 'orders', key: null, serializedKeySize: -1, serializedValueSize: 3, timestampType: 'CreateTime', headers: [] });
    expect(Math.abs(records[0]!.timestamp - Date.now())).toBeLessThan(60_000);
    expect(await c.position({ topic: 'orders', partition: 1 })).toBe(200);
    expect(await c.poll(0)).toEqual([]);
  });

  it('reads partitions whose data together is more than one connection frame carries (fetches are capped)', async () => {
    const { cluster, client } = await start();
    await createTopic(await client(), 'wide', 4);
    const producer = await cluster.producer({ acks: '1', 'enable.idempotence': false, 'batch.size': 65_536 });
    const value = Buffer.alloc(1_000, 7);
    // 4 partitions x 1.3 MB: one Fetch of everything (5+ MB) would not fit the 4 MiB embedded frame.
    await Promise.all(Array.from({ length: 5_200 }, (_, i) => producer.send({ topic: 'wide', partition: i % 4, value })));
    await producer.close();
    const c = await consumer(cluster, { 'max.poll.records': 2_000, 'max.partition.fetch.bytes': 4 << 20 });
    c.assign([0, 1, 2, 3].map((partition) => ({ topic: 'wide', partition })));
    const records = await pollUntil(c, (r) => r.length >= 5_200, 15_000);
    expect(records).toHaveLength(5_200);
  });

  it('records keep their keys, values and headers after poll() has reused the fetched memory many times over', async () => {
    const { cluster } = await start();
    const producer = await cluster.producer({ acks: '1', 'enable.idempotence': false, 'batch.size': 65_536 });
    await Promise.all(Array.from({ length: 30_000 }, (_, i) => producer.send({ topic: 'kept', key: `k${i}`, value: `value-${i}-${'x'.repeat(80)}`, headers: i % 1_000 === 0 ? { n: String(i) } : undefined })));
    await producer.close();
    const c = await consumer(cluster, { 'max.partition.fetch.bytes': 65_536, 'fetch.max.bytes': 131_072 });
    c.assign([{ topic: 'kept', partition: 0 }]);
    const records = await pollUntil(c, (r) => r.length >= 30_000, 20_000);
    records.forEach((r, i) => {
      expect(r.key!.toString()).toBe(`k${i}`);
      expect(r.value!.toString()).toBe(`value-${i}-${'x'.repeat(80)}`);
      if (i % 1_000 === 0) expect(r.headers.map((h) => `${h.key}=${h.value!.toString()}`)).toEqual([`n=${i}`]);
    });
  });

  it('reads megabyte fetches byte for byte while the broker and the I/O worker recycle their read and response memory', async () => {
    const { cluster } = await start();
    const producer = await cluster.producer({ acks: '1', 'enable.idempotence': false });
    // About 7 MB at the default max.partition.fetch.bytes (1 MiB): each side reuses its memory several times.
    await Promise.all(Array.from({ length: 60_000 }, (_, i) => producer.send({ topic: 'recycled', value: `${i}:${'v'.repeat(100 + (i % 13))}` })));
    await producer.close();
    const c = await consumer(cluster);
    c.assign([{ topic: 'recycled', partition: 0 }]);
    const records = await pollUntil(c, (r) => r.length >= 60_000, 30_000);
    expect(records).toHaveLength(60_000);
    records.forEach((r, i) => {
      expect(r.offset).toBe(i);
      expect(r.value!.toString()).toBe(`${i}:${'v'.repeat(100 + (i % 13))}`);
    });
  });

  it('keeps the next fetch in flight: records produced while the application works arrive without waiting for fetch.max.wait.ms', async () => {
    const { cluster } = await start();
    await produce(cluster, 'live', 1);
    const c = await consumer(cluster, { 'fetch.max.wait.ms': 5_000 });
    c.assign([{ topic: 'live', partition: 0 }]);
    await pollUntil(c, (r) => r.length === 1);
    // The fetcher long-polls for more; a new record answers it at once.
    const sentMs = Date.now();
    await produce(cluster, 'live', 1, { from: 1 });
    await pollUntil(c, (r) => r.length === 1, 4_000);
    expect(Date.now() - sentMs).toBeLessThan(4_000);
  });

  it('auto.offset.reset: earliest reads from the start, latest only what comes after, none fails naming the partitions', async () => {
    const { cluster, client } = await start();
    await createTopic(await client(), 'reset', 2);
    await produce(cluster, 'reset', 10, { partitions: 2 });
    const earliest = await consumer(cluster, { 'auto.offset.reset': 'earliest', valueDeserializer: 'string' });
    earliest.assign([{ topic: 'reset', partition: 0 }]);
    expect(values(await pollUntil(earliest, (r) => r.length === 5))).toEqual(['r-0', 'r-2', 'r-4', 'r-6', 'r-8']);

    const latest = await consumer(cluster, { 'auto.offset.reset': 'latest', valueDeserializer: 'string' });
    latest.assign([{ topic: 'reset', partition: 0 }]);
    expect(await latest.position({ topic: 'reset', partition: 0 })).toBe(5);
    await produce(cluster, 'reset', 1, { from: 10, partitions: 2 });
    expect(values(await pollUntil(latest, (r) => r.length === 1))).toEqual(['r-10']);

    const none = await consumer(cluster, { 'auto.offset.reset': 'none', 'group.id': 'never-committed' });
    none.assign([{ topic: 'reset', partition: 0 }, { topic: 'reset', partition: 1 }]);
    const error = await pollUntil(none, () => false, 3_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartitionOffsetError);
    expect(error).toMatchObject({ code: 'ERR_NO_OFFSET_FOR_PARTITION', partitions: ['reset-0', 'reset-1'] });
    expect((error as Error).message).toContain('reset-0, reset-1');
    // A seek gives the partition a position; the other still has none.
    none.seek({ topic: 'reset', partition: 0 }, 3);
    await expect(none.poll(100)).rejects.toMatchObject({ partitions: ['reset-1'] });
    none.pause([{ topic: 'reset', partition: 1 }]);
    none.seek({ topic: 'reset', partition: 1 }, 0);
    expect((await pollUntil(none, (r) => r.length === 3)).map((r) => r.offset)).toEqual([3, 4, 5]);
  });

  it('a position out of range resets by auto.offset.reset, or fails with none', async () => {
    const { cluster } = await start();
    await produce(cluster, 'range', 3);
    const c = await consumer(cluster, { 'auto.offset.reset': 'earliest' });
    c.assign([{ topic: 'range', partition: 0 }]);
    c.seek({ topic: 'range', partition: 0 }, 100);
    expect((await pollUntil(c, (r) => r.length === 3)).map((r) => r.offset)).toEqual([0, 1, 2]);
    const strict = await consumer(cluster, { 'auto.offset.reset': 'none' });
    strict.assign([{ topic: 'range', partition: 0 }]);
    strict.seek({ topic: 'range', partition: 0 }, 100);
    await expect(pollUntil(strict, () => false, 3_000)).rejects.toMatchObject({ code: 'ERR_OFFSET_OUT_OF_RANGE', partitions: ['range-0'] });
  });

  it('seeks, seeks to the beginning and end, and pauses and resumes partitions', async () => {
    const { cluster, client } = await start();
    await createTopic(await client(), 'moves', 2);
    await produce(cluster, 'moves', 20, { partitions: 2 });
    const c = await consumer(cluster, { valueDeserializer: 'string' });
    const p0 = { topic: 'moves', partition: 0 };
    const p1 = { topic: 'moves', partition: 1 };
    c.assign([p0, p1]);
    c.pause([p1]);
    expect(c.paused()).toEqual([p1]);
    expect((await pollUntil(c, (r) => r.length === 10)).every((r) => r.partition === 0)).toBe(true);
    expect(await c.poll(200)).toEqual([]);
    c.seek(p0, 7);
    expect((await pollUntil(c, (r) => r.length === 3)).map((r) => r.offset)).toEqual([7, 8, 9]);
    c.resume([p1]);
    expect((await pollUntil(c, (r) => r.length === 10)).every((r) => r.partition === 1)).toBe(true);
    c.seekToBeginning([p1]);
    expect(await c.position(p1)).toBe(0);
    c.seekToEnd();
    expect([await c.position(p0), await c.position(p1)]).toEqual([10, 10]);
    expect(c.assignment()).toEqual([p0, p1]);
  });

  it('iterates with for await, one record at a time or in batches, until closed', async () => {
    const { cluster } = await start();
    await produce(cluster, 'iterate', 30);
    const c = await consumer<Buffer | null, string>(cluster, { valueDeserializer: 'string', 'max.poll.records': 7 });
    c.assign([{ topic: 'iterate', partition: 0 }]);
    const seen: string[] = [];
    for await (const record of c) {
      seen.push(record.value);
      // Mid-batch: the records of this poll not yet handed out are read again after the break.
      if (seen.length === 20) break;
    }
    expect(await c.position({ topic: 'iterate', partition: 0 })).toBe(20);
    const batches: number[] = [];
    for await (const batch of c.batches(200)) {
      batches.push(batch.length);
      if (batches.reduce((a, b) => a + b, 0) === 10) void c.close();
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `r-${i}`));
    expect(batches.every((n) => n <= 7)).toBe(true);
  });

  it('deserializes keys, values and headers with string, json and function deserializers; onConsume interceptors see the records', async () => {
    const { cluster } = await start();
    const producer = await cluster.producer({ acks: '1', 'enable.idempotence': false });
    await producer.send({ topic: 'typed', key: 'k1', value: JSON.stringify({ n: 1 }), headers: { trace: 'abc' } });
    await producer.send({ topic: 'typed', key: 'k2', value: 'not json' });
    await producer.send({ topic: 'typed', key: 'k3', value: JSON.stringify({ n: 3 }) });
    await producer.close();
    const seen: number[] = [];
    const c = await consumer<string, { n: number }>(cluster, {
      keyDeserializer: (bytes) => `key:${bytes!.toString()}`,
      valueDeserializer: 'json',
      interceptors: [
        { onConsume: () => { throw new Error('a broken interceptor'); } },
        { onConsume: (records) => { seen.push(...records.map((r) => r.offset)); return records; } },
      ],
    });
    c.assign([{ topic: 'typed', partition: 0 }]);
    const [first] = await pollUntil(c, (r) => r.length >= 1);
    expect(first).toMatchObject({ key: 'key:k1', value: { n: 1 }, offset: 0 });
    expect(first!.headers.map((h) => [h.key, h.value!.toString()])).toEqual([['trace', 'abc']]);
    // The bad record stops the poll at its offset; seeking past it goes on.
    const error = await pollUntil(c, () => false, 3_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as Error).message).toContain('typed-0 offset 1');
    expect(await c.position({ topic: 'typed', partition: 0 })).toBe(1);
    c.seek({ topic: 'typed', partition: 0 }, 2);
    expect((await pollUntil(c, (r) => r.length === 1))[0]!.value).toEqual({ n: 3 });
    expect(seen).toEqual([0, 2]);
  });

  it.each(['gzip', 'snappy', 'lz4', 'zstd'])('decompresses %s batches on the main thread', async (compression) => {
    const { cluster } = await start();
    const producer = await cluster.producer({ acks: '1', 'enable.idempotence': false, 'compression.type': compression, 'linger.ms': 5 });
    await Promise.all(Array.from({ length: 300 }, (_, i) => producer.send({ topic: 'packed', key: `k${i}`, value: `value ${i} `.repeat(20) })));
    await producer.close();
    const c = await consumer(cluster, { keyDeserializer: 'string', valueDeserializer: 'string' });
    c.assign([{ topic: 'packed', partition: 0 }]);
    const records = await pollUntil(c, (r) => r.length >= 300);
    expect(records.map((r) => r.key)).toEqual(Array.from({ length: 300 }, (_, i) => `k${i}`));
    expect(records[299]!.value).toBe('value 299 '.repeat(20));
  });

  it('refuses bad input with errors that say what was wrong', async () => {
    const { cluster } = await start();
    const c = await consumer(cluster);
    await expect(c.poll(10)).rejects.toThrow(IllegalStateError);
    await expect(c.poll(10)).rejects.toThrow('not subscribed to any topics or assigned any partitions');
    expect(() => c.subscribe(['orders'])).toThrow(InvalidGroupIdError);
    expect(() => c.subscribe(['ok', ''])).toThrow('a topic name must be a non-empty, non-blank string, got ""');
    expect(() => c.subscribe(['  '])).toThrow('got "  "');
    expect(() => c.subscribe([null as unknown as string])).toThrow('got null');
    expect(() => c.assign([{ topic: 'x', partition: -1 }])).toThrow('partition must be a non-negative integer, got -1');
    c.assign([{ topic: 'x', partition: 0 }]);
    await expect(c.poll(-1)).rejects.toThrow('poll: timeoutMs must be a non-negative finite number of ms, got -1');
    await expect(c.commitSync(undefined, -5)).rejects.toThrow('commitSync: timeoutMs');
    expect(() => c.seek({ topic: 'x', partition: 1 }, 0)).toThrow('seek: partition x-1 is not assigned to this consumer');
    expect(() => c.seek({ topic: 'x', partition: 0 }, -3)).toThrow('seek: offset must be a non-negative integer, got -3');
    expect(() => c.pause([{ topic: 'y', partition: 0 }])).toThrow(IllegalStateError);
    await expect(c.commitSync()).rejects.toThrow(InvalidGroupIdError);
    const grouped = await consumer(cluster, { 'group.id': '   ' });
    expect(() => grouped.subscribe(['orders'])).toThrow('subscribe() needs a group.id');
    const member = await consumer(cluster, { 'group.id': 'g' });
    member.subscribe(['orders']);
    expect(() => member.assign([{ topic: 'orders', partition: 0 }])).toThrow('mutually exclusive');
    await expect(cluster.consumer({ 'heartbeat.interval.ms': 50_000 })).rejects.toThrow('heartbeat.interval.ms: must be lower than session.timeout.ms');
    await expect(cluster.consumer({ 'auto.offset.reset': 'smallest' })).rejects.toThrow('auto.offset.reset: must be one of earliest, latest, none');
    await expect(cluster.consumer({ 'partition.assignment.strategy': 'sticky' })).rejects.toThrow("unknown assignor 'sticky'");
    await c.close();
    await expect(c.poll(10)).rejects.toThrow('the consumer is closed');
  });

  it('never holds more than fetch.max.bytes of fetched data while the application does not poll', async () => {
    const { cluster } = await start();
    await produce(cluster, 'bounded', 2_000);
    const c = await consumer(cluster, { 'fetch.max.bytes': 4_096, 'max.partition.fetch.bytes': 4_096, 'max.poll.records': 10 });
    c.assign([{ topic: 'bounded', partition: 0 }]);
    await pollUntil(c, (r) => r.length > 0);
    // The I/O worker stops at the credit: bytes held stay within one batch past fetch.max.bytes.
    const held = await heldWhenStopped(c[consumerWorkers]().state);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(4_096 + 16_384);
    expect((await pollUntil(c, (r) => r.length >= 1_900)).length).toBeGreaterThanOrEqual(1_900);
  });
});

/** Waits (bounded) until the I/O worker sleeps for lack of credit; returns the bytes it holds then. */
async function heldWhenStopped(state: Int32Array): Promise<number> {
  const deadline = Date.now() + 5_000;
  while (Atomics.load(state, ConsumerSlot.FETCHER_WAITING) !== 1) {
    if (Date.now() > deadline) throw new Error('the I/O worker never waited for credit');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Atomics.load(state, ConsumerSlot.BYTES_HELD);
}
