import { describe, expect, it } from 'vitest';
import { ChannelReader, ChannelWriter, createChannel } from '../../src/shared/channel.js';
import { copyOut, pollThrough, readThroughUntilClosed } from '../../src/shared/ring-read.js';

/** `length` bytes counting up from `seed`, so a misplaced byte shows. */
const pattern = (length: number, seed: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (seed + i * 7) & 0xff);

describe('ring read in place', () => {
  it('hands every frame in order, copied out whole at any alignment, and gives the room back at once', () => {
    const handle = createChannel({ capacityBytes: 4_099 }); // odd size: frames wrap at every alignment
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    const seen: Uint8Array[] = [];
    const onFrame = (bytes: Uint8Array, offset: number, length: number): void => { seen.push(copyOut(bytes, offset, offset + length)); };
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      const frame = pattern(300 + (i % 900), i);
      sent.push(frame);
      if (!writer.tryWrite(frame)) {
        expect(pollThrough(reader, onFrame)).toBeGreaterThan(0);
        expect(writer.tryWrite(frame)).toBe(true); // the room is free again without a release() by the caller
      }
    }
    pollThrough(reader, onFrame);
    expect(pollThrough(reader, onFrame)).toBe(0);
    expect(seen.map((b) => Buffer.from(b))).toEqual(sent.map((b) => Buffer.from(b)));
    expect(seen.every((b) => !(b.buffer instanceof SharedArrayBuffer))).toBe(true);
  });

  it('counts a frame whose handler throws as read and gives its room back; the next poll goes on after it', () => {
    const handle = createChannel({ capacityBytes: 256 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    for (const n of [1, 2, 3]) writer.tryWrite(pattern(60, n));
    const seen: number[] = [];
    const failOnSecond = (bytes: Uint8Array, offset: number): void => {
      if (bytes[offset] === 2) throw new Error('handler failed');
      seen.push(bytes[offset]!);
    };
    expect(() => pollThrough(reader, failOnSecond)).toThrow('handler failed');
    expect(pollThrough(reader, failOnSecond)).toBe(1);
    expect(seen).toEqual([1, 3]);
    expect(writer.tryWrite(pattern(200, 4))).toBe(true); // all of it free again
  });

  it('copyOut fills the buffer given, or a new one', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(4_096));
    shared.set(pattern(4_096, 5));
    const into = Buffer.alloc(1_001);
    expect(copyOut(shared, 3, 1_004, into)).toBe(into);
    expect([...into]).toEqual([...pattern(4_096, 5).subarray(3, 1_004)]);
    expect([...copyOut(shared, 17, 30)]).toEqual([...pattern(4_096, 5).subarray(17, 30)]);
  });

  it('readThroughUntilClosed reads until the writer closes, then resolves', async () => {
    const handle = createChannel({ capacityBytes: 1_024 });
    const writer = new ChannelWriter(handle);
    const seen: number[] = [];
    const done = readThroughUntilClosed(new ChannelReader(handle), (bytes, offset) => { seen.push(bytes[offset]!); }, 50);
    for (const n of [7, 8, 9]) await writer.write(pattern(100, n));
    writer.close();
    await done;
    expect(seen).toEqual([7, 8, 9]);
  });
});
