import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/actors/buffer-pool.js';
import { TimeoutError } from '../../src/shared/errors.js';

describe('buffer pool', () => {
  it('reuses batch.size buffers and counts other sizes against the same budget', async () => {
    const pool = new BufferPool(10_000, 1_000);
    const a = await pool.allocate(1_000, 100);
    const big = await pool.allocate(5_000, 100);
    expect(pool.availableMemoryBytes).toBe(4_000);
    pool.deallocate(a);
    expect(await pool.allocate(1_000, 100)).toBe(a); // the same memory, reused
    pool.deallocate(big);
    expect(pool.availableMemoryBytes).toBe(9_000);
  });

  it('makes a sender wait, without blocking the event loop, until memory comes back', async () => {
    const pool = new BufferPool(2_000, 1_000);
    const first = await pool.allocate(1_000, 100);
    await pool.allocate(1_000, 100);
    let got: Buffer | undefined;
    const waiting = pool.allocate(1_000, 5_000).then((b) => { got = b; });
    await new Promise((resolve) => setImmediate(resolve)); // the event loop turns meanwhile
    expect(got).toBeUndefined();
    expect(pool.queued).toBe(1);
    pool.deallocate(first);
    await waiting;
    expect(got).toBe(first);
  });

  it('serves waiters in arrival order: a large request is not starved by small ones', async () => {
    const pool = new BufferPool(3_000, 1_000);
    const held = [await pool.allocate(1_000, 100), await pool.allocate(1_000, 100), await pool.allocate(1_000, 100)];
    const order: string[] = [];
    const large = pool.allocate(2_000, 5_000).then(() => order.push('large'));
    const small = pool.allocate(1_000, 5_000).then(() => order.push('small'));
    pool.deallocate(held[0]!); // 1,000 free: the large one at the head still does not fit
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    pool.deallocate(held[1]!);
    pool.deallocate(held[2]!);
    await Promise.all([large, small]);
    expect(order).toEqual(['large', 'small']);
  });

  it('fails an allocation that waited max.block.ms with ERR_BUFFER_POOL_TIMEOUT, and refuses one larger than the budget', async () => {
    const pool = new BufferPool(1_000, 1_000);
    await pool.allocate(1_000, 100);
    const error = await pool.allocate(1_000, 20).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).code).toBe('ERR_BUFFER_POOL_TIMEOUT');
    expect(pool.queued).toBe(0);
    await expect(pool.allocate(1_001, 100)).rejects.toThrow('buffer.memory is 1000');
  });
});
