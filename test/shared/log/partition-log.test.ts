import { existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, PartitionLog, type LogConfig } from '../../../src/shared/log/partition-log.js';
import { snapshotOffsets } from '../../../src/shared/log/producer-snapshot.js';
import type { AppendBatch } from '../../../src/shared/log/segment.js';
import { RecordBatchBuilder } from '../../../src/shared/record-batch/builder.js';
import { setBaseOffset } from '../../../src/shared/record-batch/header.js';
import { baseOffsetOf, kafkajsBatches } from './kafkajs-batches.js';
import { useTempDirs } from './tmpdir.js';

const tempDir = useTempDirs();
const T0 = 1_700_000_000_000;
// 10 records of ~120 bytes per batch (~1.3 KB), 4 KiB segments: 3 batches per segment.
const small: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 4_096, indexIntervalBytes: 1_024 };

function open(dir: string, config = small, cleanShutdown = false, recoveryPoint = 0) {
  return PartitionLog.open(dir, 'orders', 0, config, { recoveryPoint, logStartOffset: 0, cleanShutdown });
}

describe('partition log', () => {
  it("rolls segments named by 20-digit base offsets and reads every offset back from the right batch", async () => {
    const dir = tempDir();
    const { log } = open(dir);
    const batches = await kafkajsBatches(20, 10, T0);
    log.append(batches.slice(0, 7));
    log.append(batches.slice(7));
    expect(log.logEndOffset).toBe(200);
    expect(log.segmentCount).toBeGreaterThan(5);
    const files = readdirSync(join(dir, 'orders-0')).sort();
    expect(files).toContain('00000000000000000000.log');
    expect(files).toContain('00000000000000000030.index');
    expect(files).toContain('00000000000000000030.timeindex');
    for (let offset = 0; offset < 200; offset++) {
      const bytes = log.read(offset, 1)!;
      expect(baseOffsetOf(bytes)).toBe(offset - (offset % 10));
      expect(bytes.equals(Buffer.from(batches[Math.floor(offset / 10)]!.bytes))).toBe(true);
    }
    expect(log.read(200, 1_000)).toBeNull();
    log.close();
  });

  it('reads whole batches up to maxBytes, but always at least one', async () => {
    const { log } = open(tempDir(), { ...small, segmentBytes: 1 << 20 });
    const batches = await kafkajsBatches(5, 10, T0);
    log.append(batches);
    const [a, b, c, d, e] = batches.map((x) => x.bytes.length) as [number, number, number, number, number];
    expect(log.read(0, 10)!.length).toBe(a);
    expect(log.read(0, a + b + c - 1)!.length).toBe(a + b);
    expect(log.read(0, a + b + c)!.length).toBe(a + b + c);
    expect(log.read(15, 1 << 20)!.length).toBe(b + c + d + e);
    log.close();
  });

  it('finds offsets by timestamp across segments', async () => {
    const { log } = open(tempDir());
    log.append(await kafkajsBatches(20, 10, T0));
    expect(log.offsetForTimestamp(T0 - 1_000)).toEqual({ offset: 0, timestamp: T0 });
    expect(log.offsetForTimestamp(T0 + 105)).toEqual({ offset: 105, timestamp: T0 + 105 }); // a record inside batch [100, 109]
    expect(log.offsetForTimestamp(T0 + 199)).toEqual({ offset: 199, timestamp: T0 + 199 });
    expect(log.offsetForTimestamp(T0 + 200)).toBeUndefined();
    log.close();
  });

  it('deletes whole old segments by size and by time, moving the log start offset', async () => {
    const { log } = open(tempDir(), { ...small, retentionBytes: 8_192 });
    log.append(await kafkajsBatches(20, 10, T0));
    const before = log.segmentCount;
    expect(log.applyRetention(T0)).toBeGreaterThan(0);
    expect(log.sizeBytes).toBeLessThan(8_192 + 4_096);
    expect(log.logStartOffset).toBe(log.segmentBaseOffsets()[0]);
    expect(log.read(0, 100)).toBeNull();
    expect(log.segmentCount).toBeLessThan(before);
    log.close();

    const { log: timed } = open(tempDir(), { ...small, retentionMs: 60_000 });
    timed.append(await kafkajsBatches(20, 10, T0));
    expect(timed.applyRetention(T0 + 199 + 30_000)).toBe(0);
    timed.applyRetention(T0 + 199 + 60_001 - 100); // segments whose newest record is older than 60 s go
    expect(timed.logStartOffset).toBeGreaterThan(0);
    expect(timed.segmentCount).toBeGreaterThan(1); // the active segment always stays
    timed.close();
  });

  it('asks for an fsync by flush.messages and moves the recovery point on flush', async () => {
    const { log } = open(tempDir(), { ...small, flushMessages: 25 });
    const batches = await kafkajsBatches(3, 10, T0);
    expect(log.append(batches.slice(0, 2)).flushNeeded).toBe(false);
    expect(log.append(batches.slice(2)).flushNeeded).toBe(true);
    log.flush();
    expect(log.recoveryPoint).toBe(30);
    expect(log.flushDue()).toBe(false);
    log.close();
  });

  it('refuses a batch that does not follow the log end', async () => {
    const { log } = open(tempDir());
    const batches = await kafkajsBatches(3, 10, T0);
    expect(() => log.append([batches[1]!])).toThrow('does not follow log end 0');
    log.close();
  });
});

describe('recovery', () => {
  async function writtenLog(dir: string) {
    const { log } = open(dir);
    const batches = await kafkajsBatches(20, 10, T0);
    log.append(batches);
    log.close();
    return batches;
  }
  const lastSegment = (dir: string): string => {
    const logs = readdirSync(join(dir, 'orders-0')).filter((f) => f.endsWith('.log')).sort();
    return join(dir, 'orders-0', logs.at(-1)!);
  };

  it('cuts a half-written last batch and serves everything before it', async () => {
    const dir = tempDir();
    const batches = await writtenLog(dir);
    const path = lastSegment(dir);
    truncateSync(path, statSync(path).size - Math.floor(batches[19]!.bytes.length / 2));
    const { log, recovery } = open(dir);
    expect(recovery.truncatedBytes).toBe(Math.ceil(batches[19]!.bytes.length / 2));
    expect(log.logEndOffset).toBe(190);
    expect(baseOffsetOf(log.read(185, 1)!)).toBe(180);
    log.append([(await kafkajsBatches(1, 10, T0, 100, 190))[0]!]); // and appends go on from there
    expect(log.logEndOffset).toBe(200);
    log.close();
  });

  it('cuts the log at a batch whose CRC no longer matches, dropping later segments', async () => {
    const dir = tempDir();
    await writtenLog(dir);
    const first = join(dir, 'orders-0', '00000000000000000000.log');
    const bytes = readFileSync(first);
    const secondBatch = bytes.readInt32BE(8) + 12;
    bytes[secondBatch + 100] ^= 0xff; // a flipped byte inside batch [10, 19]
    writeFileSync(first, bytes);
    const { log, recovery } = open(dir);
    expect(log.logEndOffset).toBe(10);
    expect(recovery.deletedSegments).toBeGreaterThan(0);
    expect(log.segmentCount).toBe(1);
    expect(baseOffsetOf(log.read(5, 1)!)).toBe(0);
    log.close();
  });

  it('rebuilds a deleted index and serves reads through it', async () => {
    const dir = tempDir();
    const batches = await writtenLog(dir);
    const indexFile = join(dir, 'orders-0', '00000000000000000000.index');
    const original = readFileSync(indexFile);
    expect(original.length).toBeGreaterThan(0);
    rmSync(indexFile);
    const { log } = open(dir, small, true, 200);
    expect(existsSync(indexFile)).toBe(true);
    expect(readFileSync(indexFile).equals(original)).toBe(true);
    expect(log.read(25, 1)!.equals(Buffer.from(batches[2]!.bytes))).toBe(true);
    log.close();
  });

  it('trusts a clean shutdown and validates nothing', async () => {
    const dir = tempDir();
    await writtenLog(dir);
    const { log, recovery } = open(dir, small, true, 200);
    expect(recovery.validatedSegments).toBe(0);
    expect(log.logEndOffset).toBe(200);
    log.close();
  });
});

describe('producer state', () => {
  /** An idempotent producer's batch of 10 records (~1.3 KB: three to a 4 KiB segment), offsets assigned. */
  function producerBatch(producerId: number, epoch: number, baseSequence: number, baseOffset: number): AppendBatch {
    const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(4_096), producerId, producerEpoch: epoch, baseSequence });
    for (let i = 0; i < 10; i++) builder.tryAppend({ timestamp: T0 + baseOffset + i, key: null, value: Buffer.alloc(120, i) });
    const bytes = Buffer.from(builder.build());
    setBaseOffset(bytes, 0, baseOffset);
    return { bytes, baseOffset, lastOffset: baseOffset + 9, maxTimestamp: T0 + baseOffset + 9 };
  }
  /** 20 batches (offsets 0-199): producer 7 writes the even ones, producer 8 the odd ones, each in sequence. */
  const twoProducers = (): AppendBatch[] => Array.from({ length: 20 }, (_, i) => producerBatch(7 + (i % 2), 1, Math.floor(i / 2) * 10, i * 10));
  const state = (log: PartitionLog) => log.producerState.entries().sort((a, b) => a.producerId - b.producerId);
  const snapshots = (dir: string): number[] => snapshotOffsets(join(dir, 'orders-0'));

  it('snapshots at every roll and at a clean close, so a clean reopen reads no batch', () => {
    const dir = tempDir();
    const { log } = open(dir);
    log.append(twoProducers());
    const before = state(log);
    expect(before.map((p) => [p.producerId, p.epoch, p.batches.length, p.batches.at(-1)!.lastOffset])).toEqual([[7, 1, 5, 189], [8, 1, 5, 199]]);
    expect(snapshots(dir)).toEqual(log.segmentBaseOffsets().slice(1)); // one per roll, named by the new segment
    log.snapshotProducerState();
    log.close();
    expect(snapshots(dir).at(-1)).toBe(200);
    const { log: reopened, recovery } = open(dir, small, true, 200);
    expect([recovery.producerSnapshotOffset, recovery.producerBatchesScanned]).toEqual([200, 0]);
    expect(state(reopened)).toEqual(before); // all five batches of each, not just the last
    reopened.close();
  });

  it('after a crash, loads the last roll snapshot and reads only the batches after it', () => {
    const dir = tempDir();
    const { log } = open(dir);
    log.append(twoProducers());
    const before = state(log);
    log.close(); // no close snapshot: as if killed
    const lastSegment = log.segmentBaseOffsets().at(-1)!;
    const { log: reopened, recovery } = open(dir);
    expect(recovery.producerSnapshotOffset).toBe(lastSegment);
    expect(recovery.producerBatchesScanned).toBe((200 - lastSegment) / 10);
    expect(state(reopened)).toEqual(before);
    reopened.close();
  });

  it('skips a corrupt snapshot and drops those past a truncated log end', () => {
    const dir = tempDir();
    const { log } = open(dir);
    log.append(twoProducers());
    log.snapshotProducerState();
    log.close();
    const lastSegment = log.segmentBaseOffsets().at(-1)!;
    expect(snapshots(dir).slice(-2)).toEqual([lastSegment, 200]);
    const newest = join(dir, 'orders-0', '00000000000000000200.snapshot');
    const corrupt = readFileSync(newest);
    corrupt[corrupt.length - 3]! ^= 0xff;
    writeFileSync(newest, corrupt);
    const { log: afterCorruption, recovery } = open(dir, small, true, 200);
    expect(recovery.producerSnapshotOffset).toBe(lastSegment);
    expect(existsSync(newest)).toBe(false);
    expect(afterCorruption.producerState.entry(8)!.batches.at(-1)!.lastOffset).toBe(199);
    afterCorruption.snapshotProducerState();
    afterCorruption.close();
    // Cut the last batch in half: the log ends at 190, below the snapshot at 200.
    const segment = join(dir, 'orders-0', `${String(lastSegment).padStart(20, '0')}.log`);
    truncateSync(segment, statSync(segment).size - 500);
    const { log: truncated } = open(dir);
    expect(truncated.logEndOffset).toBe(190);
    expect(snapshots(dir)).not.toContain(200);
    expect(truncated.producerState.entry(8)!.batches.at(-1)!.lastOffset).toBe(179);
    expect(truncated.producerState.entry(7)!.batches.at(-1)!.lastOffset).toBe(189);
    truncated.close();
  });

  it('keeps a producer whose segments retention deleted, and deletes their snapshots', () => {
    const dir = tempDir();
    const { log } = open(dir, { ...small, retentionBytes: 8_192 });
    log.append([producerBatch(3, 0, 0, 0)]); // producer 3 writes once, at the start
    log.append(Array.from({ length: 19 }, (_, i) => producerBatch(4, 0, i * 10, 10 + i * 10)));
    expect(log.applyRetention(T0)).toBeGreaterThan(0);
    const first = log.segmentBaseOffsets()[0]!;
    expect(first).toBeGreaterThan(10);
    expect(snapshots(dir).every((offset) => offset >= first)).toBe(true);
    log.close();
    const { log: reopened } = open(dir, { ...small, retentionBytes: 8_192 });
    expect(reopened.producerState.entry(3)).toEqual({ producerId: 3, epoch: 0, batches: [{ firstSeq: 0, lastSeq: 9, firstOffset: 0, lastOffset: 9, maxTimestamp: T0 + 9 }] });
    reopened.close();
  });
});
