import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogWriterClient } from '../../src/actors/log-writer-client.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, ReplicaManager, invalidTopicName } from '../../src/actors/replica-manager.js';
import { ErrorCodes as ErrorCode } from '../../src/shared/protocol/index.js';
import { RecordBatchBuilder } from '../../src/shared/record-batch/builder.js';
import { RecordBatchScanner } from '../../src/shared/record-batch/scanner.js';
import { resolveBrokerOptions } from '../../src/shared/broker-config.js';
import { kafkajsBatch } from '../shared/log/kafkajs-batches.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { memoryLogger } from './helpers.js';

const tempDir = useTempDirs();
const writers: LogWriterClient[] = [];
afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.close().catch(() => w.kill())));
});

async function broker(dir: string, overrides: Record<string, unknown> = {}): Promise<ReplicaManager> {
  const { logger } = memoryLogger();
  const options = resolveBrokerOptions({ 'log.dirs': dir, ...overrides });
  const writer = new LogWriterClient({ logDir: dir, logger });
  writers.push(writer);
  const manager = new ReplicaManager(writer, options, logger);
  await manager.loadExisting();
  return manager;
}

/** What a producer sends: a batch whose baseOffset is 0, for the broker to assign. */
const produced = async (count: number, timestamp = 1_700_000_000_000): Promise<Uint8Array> => (await kafkajsBatch(0, count, timestamp)).bytes;

describe('replica manager', () => {
  it.each([
    ['', 'empty'], ['.', "'.' is not allowed"], ['..', "'..' is not allowed"], ['../etc', 'characters other than'],
    ['a b', 'characters other than'], ['x'.repeat(250), 'at most 249'],
  ])("refuses the topic name '%s' with INVALID_TOPIC_EXCEPTION", async (name, why) => {
    expect(invalidTopicName(name)).toContain(why);
    const manager = await broker(tempDir());
    expect(await manager.createTopic(name, 1)).toMatchObject({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION });
  });

  it('assigns offsets by patching baseOffset, acknowledges once written, and serves the batches back', async () => {
    const manager = await broker(tempDir());
    expect(await manager.createTopic('orders', 2)).toEqual({ errorCode: ErrorCode.NONE });
    expect(await manager.createTopic('orders', 2)).toMatchObject({ errorCode: ErrorCode.TOPIC_ALREADY_EXISTS });
    const first = manager.append('orders', 1, await produced(10));
    const second = manager.append('orders', 1, await produced(5));
    expect([first.errorCode, first.baseOffset, second.baseOffset]).toEqual([ErrorCode.NONE, 0, 10]);
    await Promise.all([first.acknowledged, second.acknowledged]);
    const fetched = await manager.fetch('orders', 1, 12, 1 << 20);
    expect(fetched).toMatchObject({ errorCode: ErrorCode.NONE, highWatermark: 15, logStartOffset: 0 });
    const bytes = Buffer.from(fetched.records!);
    expect(bytes.readBigInt64BE(0)).toBe(10n); // the second batch, with its assigned base offset
    expect(bytes.length).toBe(Buffer.from((await produced(5))).length);
    expect(await manager.fetch('orders', 1, 15, 1 << 20)).toMatchObject({ errorCode: ErrorCode.NONE, records: new Uint8Array(0) });
    expect(await manager.fetch('orders', 1, 16, 1 << 20)).toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
    expect(await manager.fetch('orders', 0, 0, 1 << 20)).toMatchObject({ errorCode: ErrorCode.NONE, highWatermark: 0 });
  });

  it('answers a fetch at the log end from the batches just appended with the bytes a log read returns', async () => {
    const dir = tempDir();
    const manager = await broker(dir);
    await manager.createTopic('tail', 1);
    const results = [];
    // 200 small batches of 10 records: more than the tail keeps, so the oldest are read from the log.
    for (let i = 0; i < 200; i++) results.push(manager.append('tail', 0, await produced(10, 1_700_000_000_000 + i)));
    await Promise.all(results.map((r) => r.acknowledged));
    const offsets = [0, 1_000, 1_990, 1_999];
    const before = await Promise.all(offsets.map(async (offset) => Buffer.from((await manager.fetch('tail', 0, offset, 1 << 20)).records!)));
    const small = Buffer.from((await manager.fetch('tail', 0, 1_900, 1)).records!);
    await writers.pop()!.close();
    const reopened = await broker(dir);
    const after = await Promise.all(offsets.map(async (offset) => Buffer.from((await reopened.fetch('tail', 0, offset, 1 << 20)).records!)));
    expect(before.map((b) => b.length)).toEqual(after.map((b) => b.length));
    expect(before).toEqual(after);
    expect(small).toEqual(Buffer.from((await reopened.fetch('tail', 0, 1_900, 1)).records!));
    expect(small.readBigInt64BE(0)).toBe(1_900n);
  });

  it('answers bad produce input with the right error code and goes on serving', async () => {
    const manager = await broker(tempDir(), { 'message.max.bytes': 2_000 });
    await manager.createTopic('t', 1);
    const good = await produced(3);
    const badCrc = Buffer.from(good);
    badCrc[badCrc.length - 1]! ^= 0xff;
    expect(manager.append('t', 0, badCrc)).toMatchObject({ errorCode: ErrorCode.CORRUPT_MESSAGE });
    expect(manager.append('t', 0, good.subarray(0, 40))).toMatchObject({ errorCode: ErrorCode.CORRUPT_MESSAGE });
    expect(manager.append('t', 0, await produced(30))).toMatchObject({ errorCode: ErrorCode.MESSAGE_TOO_LARGE });
    expect(manager.append('t', 1, good)).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    expect(manager.append('nope', 0, good)).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    const ok = manager.append('t', 0, good);
    expect(ok).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    await ok.acknowledged;
  });

  it('wakes a long-polling fetch when data arrives, and lets it time out otherwise', async () => {
    const manager = await broker(tempDir());
    await manager.createTopic('poll', 1);
    const quiet = manager.waitForData([{ topic: 'poll', partition: 0 }], 20);
    await quiet.done; // nothing came: it ended by its timer
    const waiting = manager.waitForData([{ topic: 'poll', partition: 0 }], 10_000);
    expect(manager.availableFrom('poll', 0, 0)).toBe(false);
    manager.append('poll', 0, await produced(2));
    await waiting.done;
    expect(manager.availableFrom('poll', 0, 0)).toBe(true);
  });

  it('lists earliest, latest and by-timestamp offsets', async () => {
    const manager = await broker(tempDir());
    await manager.createTopic('times', 1);
    await manager.append('times', 0, await produced(10, 1_000)).acknowledged;
    await manager.append('times', 0, await produced(10, 2_000)).acknowledged;
    expect(await manager.listOffset('times', 0, EARLIEST_TIMESTAMP)).toMatchObject({ offset: 0 });
    expect(await manager.listOffset('times', 0, LATEST_TIMESTAMP)).toMatchObject({ offset: 20 });
    expect(await manager.listOffset('times', 0, 1_500)).toMatchObject({ offset: 10, timestamp: 2_000 }); // the first record at or after it
    expect(await manager.listOffset('times', 0, 1_003)).toMatchObject({ offset: 3 }); // the record, not its batch
    expect(await manager.listOffset('times', 0, 9_999)).toMatchObject({ offset: -1 });
  });

  it('finds its topics and offsets again after a restart', async () => {
    const dir = tempDir();
    const first = await broker(dir);
    await first.createTopic('kept', 3);
    const topicId = first.topicId('kept')!;
    expect(topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(readFileSync(join(dir, 'kept-1', 'partition.metadata'), 'utf8')).toBe(`version: 0\ntopic_id: ${topicId}`);
    await first.append('kept', 2, await produced(7)).acknowledged;
    await writers.pop()!.close();
    const second = await broker(dir);
    expect(second.partitionCount('kept')).toBe(3);
    expect(second.topicId('kept')).toBe(topicId);
    expect(second.topicName(topicId)).toBe('kept');
    expect(second.append('kept', 2, await produced(1)).baseOffset).toBe(7);
  });
});

describe('replica manager, idempotent producers', () => {
  const T0 = 1_700_000_000_000;
  /** A producer's batch of `count` records from sequence `baseSequence`, as its sender builds it. */
  function sent(producerId: number, producerEpoch: number, baseSequence: number, count: number, options: { isTransactional?: boolean } = {}): Buffer {
    const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(4_096), producerId, producerEpoch, baseSequence, ...options });
    for (let i = 0; i < count; i++) builder.tryAppend({ timestamp: T0 + baseSequence + i, key: null, value: Buffer.from(`${producerId}/${baseSequence + i}`) });
    return Buffer.from(builder.build());
  }
  /** The base offsets of the batches in the partition's log, read back. */
  async function logged(manager: ReplicaManager, topic: string, partition = 0): Promise<number[]> {
    const fetched = await manager.fetch(topic, partition, 0, 1 << 20);
    return [...new RecordBatchScanner(fetched.records!)].map((b) => b.baseOffset);
  }

  it('answers a retry of a batch still being written with its offsets once it is written, appending nothing', async () => {
    const manager = await broker(tempDir());
    await manager.createTopic('once', 1);
    const original = manager.append('once', 0, sent(5, 0, 0, 3));
    const retry = manager.append('once', 0, sent(5, 0, 0, 3));
    expect(manager.availableFrom('once', 0, 0)).toBe(false); // nothing has come back from the log writer yet
    expect(original).toMatchObject({ errorCode: 0, baseOffset: 0, logAppendTimeMs: -1 });
    // Kafka answers a duplicate with its original's offsets, and its max timestamp as log-append time.
    expect(retry).toMatchObject({ errorCode: 0, baseOffset: 0, logStartOffset: 0, logAppendTimeMs: T0 + 2 });
    expect(await retry.acknowledged).toBeUndefined();
    expect(manager.availableFrom('once', 0, 2)).toBe(true); // acknowledged only once the original was written
    expect(await original.acknowledged).toBeUndefined();
    const next = manager.append('once', 0, sent(5, 0, 3, 2));
    expect(next).toMatchObject({ errorCode: 0, baseOffset: 3 });
    await next.acknowledged;
    expect(await logged(manager, 'once')).toEqual([0, 3]);
  });

  it('refuses gaps and old epochs, appending nothing, each partition on its own', async () => {
    const manager = await broker(tempDir());
    await manager.createTopic('strict', 2);
    await manager.append('strict', 0, sent(5, 0, 0, 2)).acknowledged;
    expect(manager.append('strict', 0, sent(5, 0, 3, 1))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, baseOffset: -1 });
    expect(manager.append('strict', 1, sent(5, 0, 0, 1))).toMatchObject({ errorCode: 0, baseOffset: 0 }); // its own sequence there
    expect(manager.append('strict', 0, sent(5, 1, 1, 1))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER }); // a new epoch starts at 0
    await manager.append('strict', 0, sent(5, 1, 0, 1)).acknowledged;
    expect(manager.append('strict', 0, sent(5, 0, 2, 1))).toMatchObject({ errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(manager.append('strict', 0, sent(5, 0, 0, 2))).toMatchObject({ errorCode: ErrorCode.INVALID_PRODUCER_EPOCH }); // even a retry of the old epoch
    expect(await logged(manager, 'strict')).toEqual([0, 2]);
  });

  it('leaves batches without a producer id alone, and refuses what idempotence cannot make sense of', async () => {
    const manager = await broker(tempDir());
    await manager.createTopic('mixed', 1);
    const plain = await produced(4);
    await manager.append('mixed', 0, plain).acknowledged;
    expect(manager.append('mixed', 0, await produced(4))).toMatchObject({ errorCode: 0, baseOffset: 4 }); // the same bytes again: a second copy
    expect(manager.append('mixed', 0, Buffer.concat([sent(6, 0, 0, 1), sent(6, 0, 1, 1)]))).toMatchObject({ errorCode: ErrorCode.INVALID_RECORD });
    expect(manager.append('mixed', 0, sent(6, 0, 0, 1, { isTransactional: true }))).toMatchObject({ errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED });
    const twoPlain = manager.append('mixed', 0, Buffer.concat([await produced(1), await produced(2)]));
    expect(twoPlain).toMatchObject({ errorCode: 0, baseOffset: 8 });
    await twoPlain.acknowledged;
    expect(await logged(manager, 'mixed')).toEqual([0, 4, 8, 9]);
  });

  it('recognises a retry after a restart', async () => {
    const dir = tempDir();
    const first = await broker(dir);
    await first.createTopic('kept', 1);
    await first.append('kept', 0, await produced(2)).acknowledged;
    await first.append('kept', 0, sent(9, 2, 0, 3)).acknowledged;
    await writers.pop()!.close();
    const second = await broker(dir);
    expect(second.append('kept', 0, sent(9, 2, 0, 3))).toMatchObject({ errorCode: 0, baseOffset: 2 });
    expect(second.append('kept', 0, sent(9, 2, 3, 1))).toMatchObject({ errorCode: 0, baseOffset: 5 });
  });

  it('drops the producer state with its topic', async () => {
    const dir = tempDir();
    const manager = await broker(dir);
    await manager.createTopic('gone', 1);
    await manager.append('gone', 0, sent(3, 0, 0, 2)).acknowledged;
    await manager.append('gone', 0, sent(3, 0, 2, 2)).acknowledged;
    expect(await manager.deleteTopic('gone')).toEqual({ errorCode: ErrorCode.NONE });
    await manager.createTopic('gone', 1);
    // A new topic knows no producers: what was a duplicate is appended, and any sequence is taken (as Kafka does).
    expect(manager.append('gone', 0, sent(3, 0, 2, 2))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    await writers.pop()!.close();
    const restarted = await broker(dir);
    expect(restarted.append('gone', 0, sent(3, 0, 2, 2))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(restarted.append('gone', 0, sent(3, 0, 0, 2))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  });

  it('never acknowledges a retry whose original could not be written', async () => {
    const manager = await broker(tempDir());
    await manager.createTopic('doomed', 1);
    const original = manager.append('doomed', 0, sent(4, 0, 0, 2));
    const retry = manager.append('doomed', 0, sent(4, 0, 0, 2));
    await writers.at(-1)!.kill(); // the log writer dies, most likely before writing the batch
    const [originalOutcome, retryOutcome] = await Promise.all([original.acknowledged, retry.acknowledged]);
    expect(retryOutcome).toEqual(originalOutcome); // both written, or both failed: never the retry alone
    if (originalOutcome !== undefined) expect(originalOutcome.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(manager.append('doomed', 0, sent(4, 0, 2, 1))).toMatchObject({ errorCode: ErrorCode.KAFKA_STORAGE_ERROR });
  });
});
