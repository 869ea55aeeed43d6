import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogWriterClient, type PartitionProgress } from '../../src/actors/log-writer-client.js';
import { IllegalStateError } from '../../src/shared/errors.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/shared/log/partition-log.js';
import { kafkajsBatches } from '../shared/log/kafkajs-batches.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { memoryLogger } from './helpers.js';

const tempDir = useTempDirs();
const clients: LogWriterClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.kill()));
});

function start(logDir: string): LogWriterClient {
  const client = new LogWriterClient({ logDir, logger: memoryLogger().logger });
  clients.push(client);
  return client;
}

/** Resolves once `partitionId` has progressed to `offset` by `pick`. */
function reached(client: LogWriterClient, partitionId: number, offset: number, pick: (p: PartitionProgress) => number): Promise<void> {
  return new Promise((resolve) => {
    const check = (id: number, p: PartitionProgress): void => {
      if (id === partitionId && pick(p) >= offset) {
        off();
        resolve();
      }
    };
    const off = client.onProgress(check);
    const now = client.progress(partitionId);
    if (now !== undefined) check(partitionId, now);
  });
}

const config: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 64 * 1024 };

describe('log writer worker', () => {
  it('writes appended batches to disk byte for byte and reports the written end offset', async () => {
    const dir = tempDir();
    const client = start(dir);
    expect(await client.open({ partitionId: 7, topic: 'orders', partition: 0, config })).toMatchObject({ logStartOffset: 0, logEndOffset: 0 });
    const batches = await kafkajsBatches(40, 10, 1_700_000_000_000);
    const written = reached(client, 7, 400, (p) => p.writtenEndOffset);
    for (const b of batches) client.append(7, b.bytes);
    await written;
    const onDisk = readFileSync(join(dir, 'orders-0', '00000000000000000000.log'));
    const expected = Buffer.concat(batches.map((b) => b.bytes));
    expect(onDisk.equals(expected.subarray(0, onDisk.length))).toBe(true);
    expect(client.progress(7)!.durableEndOffset).toBe(0); // Kafka's default: no forced fsync
  });

  it('writes bulk appends straight from a small channel, frames wrapping its end included, byte for byte', async () => {
    const dir = tempDir();
    // An odd capacity a few batches large: frames wrap the ring's end, and the sender waits for room often.
    const client = new LogWriterClient({ logDir: dir, logger: memoryLogger().logger, channelCapacityBytes: 10_007 });
    clients.push(client);
    await client.open({ partitionId: 2, topic: 'bulk', partition: 0, config: { ...config, segmentBytes: 1 << 20 } });
    const batches = await kafkajsBatches(200, 10, 1_700_000_000_000);
    const written = reached(client, 2, 2_000, (p) => p.writtenEndOffset);
    for (const b of batches) {
      if (!client.tryAppend(2, b.bytes)) await client.appendAsync(2, b.bytes);
    }
    await written;
    const onDisk = readFileSync(join(dir, 'bulk-0', '00000000000000000000.log'));
    expect(onDisk.equals(Buffer.concat(batches.map((b) => b.bytes)))).toBe(true);
    expect(Buffer.from(await client.read(2, 1_005, 1)).equals(Buffer.from(batches[100]!.bytes))).toBe(true);
  });

  it('serves reads and offset lookups in order with the appends before them', async () => {
    const client = start(tempDir());
    await client.open({ partitionId: 3, topic: 'reads', partition: 0, config });
    const batches = await kafkajsBatches(10, 10, 1_700_000_000_000);
    for (const b of batches) client.append(3, b.bytes);
    // No waiting for progress: the read is queued behind the appends, so it sees them.
    const bytes = await client.read(3, 35, 1);
    expect(Buffer.from(bytes).equals(Buffer.from(batches[3]!.bytes))).toBe(true);
    expect((await client.read(3, 1_000, 100)).length).toBe(0);
    expect(await client.offsets(3, 1_700_000_000_050)).toEqual({ logStartOffset: 0, logEndOffset: 100, offsetForTimestamp: 50, timestampOfOffset: 1_700_000_000_050 });
    expect(await client.offsets(3, 1_800_000_000_000)).toMatchObject({ offsetForTimestamp: null });
  });

  it('fsyncs before reporting durable progress with flush.messages=1', async () => {
    const client = start(tempDir());
    await client.open({ partitionId: 1, topic: 't', partition: 0, config: { ...config, flushMessages: 1 } });
    const durable = reached(client, 1, 100, (p) => p.durableEndOffset);
    for (const b of await kafkajsBatches(10, 10, 1_700_000_000_000)) client.append(1, b.bytes);
    await durable;
    expect(client.progress(1)).toEqual({ writtenEndOffset: 100, durableEndOffset: 100 });
  });

  it('answers a bad command with a typed error and keeps working', async () => {
    const client = start(tempDir());
    await client.open({ partitionId: 1, topic: 't', partition: 0, config });
    await expect(client.open({ partitionId: 1, topic: 't', partition: 0, config })).rejects.toBeInstanceOf(IllegalStateError);
    expect(await client.command({ type: 'flush' })).toEqual([]);
  });

  it('closes cleanly (checkpoints, marker) and reopens without validating', async () => {
    const dir = tempDir();
    const first = start(dir);
    await first.open({ partitionId: 1, topic: 'orders', partition: 2, config });
    for (const b of await kafkajsBatches(30, 10, 1_700_000_000_000)) first.append(1, b.bytes);
    await first.close();
    expect(existsSync(join(dir, '.kafka_cleanshutdown'))).toBe(true);
    expect(readFileSync(join(dir, 'recovery-point-offset-checkpoint'), 'utf8')).toBe('0\n1\norders 2 300\n');
    const second = start(dir);
    const reopened = await second.open({ partitionId: 1, topic: 'orders', partition: 2, config });
    expect(reopened.logEndOffset).toBe(300);
    expect(reopened.recovery.validatedSegments).toBe(0);
    expect(existsSync(join(dir, '.kafka_cleanshutdown'))).toBe(false); // consumed by the running writer
  });

  it('recovers everything it reported written after being killed', async () => {
    const dir = tempDir();
    const first = start(dir);
    await first.open({ partitionId: 1, topic: 'orders', partition: 0, config });
    const written = reached(first, 1, 300, (p) => p.writtenEndOffset);
    for (const b of await kafkajsBatches(30, 10, 1_700_000_000_000)) first.append(1, b.bytes);
    await written;
    await first.kill();
    const second = start(dir);
    const reopened = await second.open({ partitionId: 1, topic: 'orders', partition: 0, config });
    expect(reopened.logEndOffset).toBe(300);
    expect(reopened.recovery.validatedSegments).toBeGreaterThan(0);
  });
});
