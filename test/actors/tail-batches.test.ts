import { describe, expect, it } from 'vitest';
import { TailBatches } from '../../src/actors/tail-batches.js';

/** A stand-in batch: `size` bytes all equal to `fill` (TailBatches never looks inside). */
const batch = (size: number, fill: number): Uint8Array => new Uint8Array(size).fill(fill);

describe('TailBatches', () => {
  it('answers from the batch holding the offset, only below the end given, at least one batch within maxBytes', () => {
    const tail = new TailBatches(1_000);
    tail.add(10, 14, batch(100, 1));
    tail.add(15, 19, batch(100, 2));
    tail.add(20, 24, batch(100, 3));
    expect([...tail.read(12, 25, 1_000)!]).toEqual([...batch(100, 1), ...batch(100, 2), ...batch(100, 3)]);
    expect([...tail.read(15, 20, 1_000)!]).toEqual([...batch(100, 2)]); // 20.. not written yet
    expect([...tail.read(15, 25, 150)!]).toEqual([...batch(100, 2)]);
    expect([...tail.read(15, 25, 10)!]).toEqual([...batch(100, 2)]); // one batch even past maxBytes
    expect(tail.read(20, 20, 1_000)).toBeNull();
    expect(tail.read(9, 25, 1_000)).toBeNull(); // older than what is kept: the log answers
  });

  it('keeps copies, evicts the oldest past its bound, skips a batch larger than it, and starts over after a gap', () => {
    const tail = new TailBatches(250);
    const first = batch(100, 1);
    tail.add(0, 0, first);
    first.fill(9);
    expect([...tail.read(0, 1, 1_000)!]).toEqual([...batch(100, 1)]);
    tail.add(1, 1, batch(100, 2));
    tail.add(2, 2, batch(100, 3));
    expect(tail.read(0, 3, 1_000)).toBeNull();
    expect(tail.read(1, 3, 1_000)!.length).toBe(200);
    tail.add(3, 3, batch(300, 4));
    expect(tail.read(1, 4, 1_000)).toBeNull();
    expect(tail.read(3, 4, 1_000)).toBeNull();
    tail.add(4, 4, batch(10, 5));
    tail.add(9, 9, batch(10, 6)); // not next to offset 4
    expect(tail.read(4, 10, 1_000)).toBeNull();
    expect([...tail.read(9, 10, 1_000)!]).toEqual([...batch(10, 6)]);
  });

  it('keeps no batch over its batch bound, and nothing from before one', () => {
    const tail = new TailBatches(1_000, 100);
    tail.add(0, 0, batch(100, 1));
    tail.add(1, 1, batch(101, 2));
    expect(tail.read(0, 2, 1_000)).toBeNull();
    expect(tail.read(1, 2, 1_000)).toBeNull();
    tail.add(2, 2, batch(50, 3));
    expect([...tail.read(2, 3, 1_000)!]).toEqual([...batch(50, 3)]);
  });

  it('stays bounded over many small batches', () => {
    const tail = new TailBatches(1_000);
    for (let offset = 0; offset < 10_000; offset++) tail.add(offset, offset, batch(10, offset & 0xff));
    expect(tail.read(9_899, 10_000, 1 << 20)).toBeNull();
    expect(tail.read(9_900, 10_000, 1 << 20)!.length).toBe(1_000);
  });
});
