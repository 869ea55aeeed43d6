import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/actors/buffer-pool.js';
import { RecordAccumulator } from '../../src/actors/record-accumulator.js';
import { readBatchHeader, readRecords } from '../../src/shared/record-batch/index.js';
import { Compression } from '../../src/shared/record-batch/layout.js';

const T0 = 1_700_000_000_000;

function setup(batchSizeBytes = 1_024, lingerMs = 5, bufferMemory = 64 * 1024) {
  const pool = new BufferPool(bufferMemory, batchSizeBytes);
  const results: [string, Error | null, number][] = [];
  const accumulator = new RecordAccumulator<string>({
    batchSizeBytes, lingerMs, compression: Compression.none, pool,
    onComplete: (batch, error, baseOffset) => { for (const name of batch.callbacks) results.push([name, error, baseOffset]); },
  });
  const completion = (name: string): string => name;
  const record = (bytes = 100) => ({ timestamp: T0, key: null, value: Buffer.alloc(bytes, 7) });
  return { pool, accumulator, results, completion, record };
}

describe('record accumulator', () => {
  it('fills one batch per partition and starts another when it is full', async () => {
    const { accumulator, completion, record } = setup();
    const first = await accumulator.append('t', 0, record(), completion('a'), T0, 100);
    expect(first).toMatchObject({ newBatchCreated: true, batchIsFull: false });
    const firstBatch = first.batch; // a synchronous result is reused by the next append
    let next = await accumulator.append('t', 0, record(), completion('x'), T0, 100);
    let appended = 2;
    while (!next.newBatchCreated) {
      expect(next.batch).toBe(firstBatch);
      next = await accumulator.append('t', 0, record(), completion('x'), T0, 100);
      if (++appended > 100) throw new Error('a 1 KiB batch took 100 records of 100 bytes');
    }
    expect(next.batch).not.toBe(firstBatch);
    expect(appended).toBeGreaterThan(5);
    expect(next.batchIsFull).toBe(true); // the first batch is waiting, full, for the sender
    expect(accumulator.queueLength('t', 0)).toBe(2);
  });

  it('makes a partition ready after linger.ms, at once when full, and on flush', async () => {
    const { accumulator, completion, record } = setup(1_024, 5);
    await accumulator.append('t', 0, record(), completion('a'), T0, 100);
    expect(accumulator.ready(T0 + 2)).toEqual({ ready: [], nextReadyCheckDelayMs: 3 });
    expect(accumulator.ready(T0 + 5).ready).toEqual([{ topic: 't', partition: 0 }]);
    accumulator.beginFlush();
    expect(accumulator.ready(T0).ready).toHaveLength(1);
    accumulator.endFlush();
    await accumulator.append('t', 1, record(2_000), completion('big'), T0, 100); // its own, full batch
    expect(accumulator.ready(T0).ready).toEqual([{ topic: 't', partition: 1 }]);
  });

  it('drains closed batches that read back as the records appended, within maxBytes but at least one', async () => {
    const { accumulator, completion, record } = setup();
    for (const p of [0, 1, 2]) for (let i = 0; i < 3; i++) await accumulator.append('t', p, record(50 + i), completion(`${p}`), T0, 100);
    const partitions = [0, 1, 2].map((partition) => ({ topic: 't', partition }));
    const firstOnly = accumulator.drain(partitions, 1);
    expect(firstOnly).toHaveLength(1);
    const rest = accumulator.drain(partitions, 1 << 20);
    expect(rest.map((b) => b.partition)).toEqual([1, 2]);
    const records = [...readRecords(readBatchHeader(rest[0]!.bytes!))];
    expect(records.map((r) => r.value!.length)).toEqual([50, 51, 52]);
    expect(accumulator.pendingBatches).toBe(0);
  });

  it('tells every record of a completed batch and gives its memory back', async () => {
    const { pool, accumulator, results, completion, record } = setup();
    await accumulator.append('t', 0, record(), completion('a'), T0, 100);
    await accumulator.append('t', 0, record(), completion('b'), T0, 100);
    const [batch] = accumulator.drain([{ topic: 't', partition: 0 }], 1 << 20);
    expect(pool.availableMemoryBytes).toBe(64 * 1024 - 1_024);
    accumulator.complete(batch!, null, 42);
    expect(results).toEqual([['a', null, 42], ['b', null, 42]]);
    expect(batch!.callbacks).toEqual(['a', 'b']);
    expect(pool.availableMemoryBytes).toBe(64 * 1024);
  });

  it('makes everything ready when memory runs out, and lets the waiting send in once a batch completes', async () => {
    const { accumulator, completion, record } = setup(1_024, 60_000, 2_048);
    await accumulator.append('t', 0, record(900), completion('a'), T0, 100);
    await accumulator.append('t', 1, record(900), completion('b'), T0, 100);
    const waiting = accumulator.append('t', 2, record(900), completion('c'), T0, 5_000);
    expect(accumulator.waitingAppends).toBe(1);
    expect(accumulator.ready(T0).ready).toHaveLength(2); // linger is a minute away, but memory is out
    const [batch] = accumulator.drain([{ topic: 't', partition: 0 }], 1 << 20);
    accumulator.complete(batch!, null, 0);
    expect((await waiting).newBatchCreated).toBe(true);
  });

  it('puts a retried batch back first in its queue, and fails everything on abort', async () => {
    const { accumulator, results, completion, record } = setup(100);
    await accumulator.append('t', 0, record(80), completion('first'), T0, 100);
    await accumulator.append('t', 0, record(80), completion('second'), T0, 100);
    const [first] = accumulator.drain([{ topic: 't', partition: 0 }], 1 << 20);
    accumulator.reenqueue(first!);
    expect(accumulator.drain([{ topic: 't', partition: 0 }], 1 << 20)[0]).toBe(first);
    accumulator.abortAll(new Error('closing'));
    expect(results.map(([name, error]) => [name, error?.message])).toEqual([['second', 'closing']]);
  });
});
