import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelReader, ChannelWriter, createChannel } from '../../src/shared/channel.js';
import { IllegalStateError } from '../../src/shared/errors.js';
import { ChannelSlot } from '../../src/shared/layout.js';

const fixture = new URL('../fixtures/channel-worker.mjs', import.meta.url);
const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (bytes: Uint8Array, offset: number, length: number): string => new TextDecoder().decode(bytes.subarray(offset, offset + length));

describe('channel read in place', () => {
  it('hands frames whole and in order across many wrap-arounds, wrapped frames and prefixes included', () => {
    const handle = createChannel({ capacityBytes: 101 }); // odd size: frames and prefixes straddle the end
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    const seen: string[] = [];
    const onFrame = (b: Uint8Array, o: number, l: number): void => { seen.push(text(b, o, l)); };
    for (let i = 0; i < 2_000; i++) {
      const message = encode(`m${i}:${'x'.repeat(i % 37)}`);
      if (!writer.tryWrite(message)) {
        reader.pollInPlace(onFrame, 1_000);
        reader.release();
        expect(writer.tryWrite(message)).toBe(true);
      }
    }
    reader.pollInPlace(onFrame, 1_000);
    reader.release();
    expect(seen).toHaveLength(2_000);
    seen.forEach((m, i) => expect(m).toBe(`m${i}:${'x'.repeat(i % 37)}`));
  });

  it('hands out views into the ring itself, and keeps their space taken until release()', () => {
    const handle = createChannel({ capacityBytes: 64 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    while (writer.tryWrite(new Uint8Array(10).fill(7)));
    const views: Uint8Array[] = [];
    expect(reader.pollInPlace((b, o, l) => views.push(b.subarray(o, o + l)), 1_000)).toBe(4);
    expect(views.every((v) => v.buffer === handle.ring)).toBe(true);
    expect(reader.hasFrames).toBe(false); // held frames are not waiting any more
    expect(writer.tryWrite(new Uint8Array(10))).toBe(false); // still held: the writer cannot reuse their bytes
    expect(views.every((v) => v.every((byte) => byte === 7))).toBe(true);
    reader.release();
    expect(writer.tryWrite(new Uint8Array(10))).toBe(true);
  });

  it('stops after about maxBytes but always hands at least one frame', () => {
    const handle = createChannel({ capacityBytes: 1_024 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    for (let i = 0; i < 10; i++) writer.tryWrite(new Uint8Array(96)); // 100 ring bytes each
    expect(reader.pollInPlace(() => undefined, 1)).toBe(1);
    reader.release();
    expect(reader.pollInPlace(() => undefined, 250)).toBe(3);
    reader.release();
    expect(reader.pollInPlace(() => undefined, 10_000)).toBe(6);
    reader.release();
    expect(reader.pollInPlace(() => undefined, 10_000)).toBe(0);
  });

  it('refuses a second pollInPlace before release(), a poll() in between, and re-entry', () => {
    const handle = createChannel({ capacityBytes: 256 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    writer.tryWrite(encode('a'));
    writer.tryWrite(encode('b'));
    expect(reader.pollInPlace(() => undefined, 1)).toBe(1);
    expect(() => reader.pollInPlace(() => undefined, 1)).toThrow(IllegalStateError);
    expect(() => reader.poll(() => undefined)).toThrow(IllegalStateError);
    reader.release();
    expect(() => reader.pollInPlace(() => reader.pollInPlace(() => undefined, 1), 1)).toThrow(IllegalStateError);
    reader.release();
    expect(reader.hasFrames).toBe(false);
  });

  it('loses nothing between threads with a writer outrunning an in-place reader on a small ring', async () => {
    const handle = createChannel({ capacityBytes: 4_099 });
    const worker = new Worker(fixture, { workerData: { mode: 'in-place', handle } });
    workers.push(worker);
    const done = once(worker, 'message');
    const writer = new ChannelWriter(handle);
    const count = 20_000;
    for (let seq = 1; seq <= count; seq++) {
      const f = new Uint8Array(4 + ((seq * 7919) % 1_000));
      new DataView(f.buffer).setUint32(0, seq, true);
      for (let i = 4; i < f.length; i++) f[i] = (seq + i) & 0xff;
      if (!writer.tryWrite(f)) await writer.write(f, 5_000);
    }
    writer.close();
    const [state] = (await done) as [{ frames: number; errors: string[] }];
    expect(state.errors).toEqual([]);
    expect(state.frames).toBe(count);
  });
});

describe('channel room waits', () => {
  it('wakes a writer waiting for room only once the room it asked for is free', async () => {
    const handle = createChannel({ capacityBytes: 1_000 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    while (writer.tryWrite(new Uint8Array(96))); // 100 ring bytes each: 10 frames
    const control = new Int32Array(handle.control);
    let woken = false;
    const waiting = writer.waitForRoom(500, 5_000).then(() => { woken = true; });
    expect(Atomics.load(control, ChannelSlot.WRITER_WAITING)).toBe(1);
    const spaceSeq = Atomics.load(control, ChannelSlot.SPACE_SEQ);
    reader.pollInPlace(() => undefined, 300); // 3 frames: 300 bytes free, not enough
    reader.release();
    expect(Atomics.load(control, ChannelSlot.SPACE_SEQ)).toBe(spaceSeq); // no doorbell
    expect(Atomics.load(control, ChannelSlot.WRITER_WAITING)).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(woken).toBe(false);
    reader.pollInPlace(() => undefined, 200); // 500 free now
    reader.release();
    expect(Atomics.load(control, ChannelSlot.SPACE_SEQ)).toBe(spaceSeq + 1);
    await waiting;
    expect(woken).toBe(true);
  });

  it('asks for at most the whole ring, so a wait for more still ends once the reader took everything', async () => {
    const handle = createChannel({ capacityBytes: 256 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    writer.tryWrite(new Uint8Array(100));
    const waiting = writer.waitForRoom(1 << 20, 5_000);
    reader.poll(() => undefined);
    await expect(waiting).resolves.toBeUndefined();
  });
});
