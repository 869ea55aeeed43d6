import { describe, expect, it } from 'vitest';
import { ChunkPool, MIN_CHUNK_BYTES } from '../../src/shared/chunk-pool.js';

describe('ChunkPool', () => {
  it('hands out buffers of the length asked, and reuses the memory of those put back', () => {
    const pool = new ChunkPool(4 << 20);
    const first = pool.take(1_000_000);
    expect(first.length).toBe(1_000_000);
    pool.put(first);
    const second = pool.take(900_000);
    expect(second.buffer).toBe(first.buffer); // the same size class: 1 MiB
    expect(second.length).toBe(900_000);
    expect(pool.take(900_000).buffer).not.toBe(first.buffer); // taken, so not handed out twice
  });

  it('takes back only its own kind of buffer, and no more than its bound', () => {
    const pool = new ChunkPool(2 * MIN_CHUNK_BYTES);
    const chunk = pool.take(100);
    pool.put(chunk.subarray(1)); // a view that does not start the buffer
    pool.put(Buffer.alloc(MIN_CHUNK_BYTES + 1)); // not a size class
    expect(pool.take(100).buffer).not.toBe(chunk.buffer);
    const kept = [pool.take(10), pool.take(10), pool.take(10)];
    for (const b of kept) pool.put(b);
    const again = [pool.take(10), pool.take(10), pool.take(10)].map((b) => b.buffer);
    expect(again.filter((b) => kept.some((k) => k.buffer === b))).toHaveLength(2);
  });
});
