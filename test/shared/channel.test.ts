import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelReader, ChannelWriter, createChannel, type ChannelHandle } from '../../src/shared/channel.js';
import { ChannelClosedError, FrameTooLargeError, IllegalStateError, TimeoutError } from '../../src/shared/errors.js';
import { ChannelSlot } from '../../src/shared/layout.js';

const fixture = new URL('../fixtures/channel-worker.mjs', import.meta.url);
const workers: Worker[] = [];

function startReader(mode: 'verify' | 'sleep' | 'slow', handle: ChannelHandle): Worker {
  const worker = new Worker(fixture, { workerData: { mode, handle } });
  workers.push(worker);
  return worker;
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

/** Frame `seq`: its sequence number, then a pattern the reader can check. */
function frame(seq: number, length: number): Uint8Array {
  const bytes = new Uint8Array(Math.max(4, length));
  new DataView(bytes.buffer).setUint32(0, seq, true);
  for (let i = 4; i < bytes.length; i++) bytes[i] = (seq + i) & 0xff;
  return bytes;
}

const text = (bytes: Uint8Array, offset: number, length: number): string =>
  new TextDecoder().decode(bytes.subarray(offset, offset + length));

describe('channel on one thread', () => {
  it('keeps frames whole and in order across many wrap-arounds, prefix split included', () => {
    const handle = createChannel({ capacityBytes: 101 }); // odd size: prefixes straddle the wrap
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    const seen: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      const message = `m${i}:${'x'.repeat(i % 37)}`;
      if (!writer.tryWrite(new TextEncoder().encode(message))) {
        reader.poll((b, o, l) => seen.push(text(b, o, l)));
        expect(writer.tryWrite(new TextEncoder().encode(message))).toBe(true);
      }
    }
    reader.poll((b, o, l) => seen.push(text(b, o, l)));
    expect(seen).toHaveLength(2_000);
    seen.forEach((m, i) => expect(m).toBe(`m${i}:${'x'.repeat(i % 37)}`));
  });

  it('writes a head and a body as one frame', () => {
    const handle = createChannel({ capacityBytes: 64 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    expect(writer.tryWrite2(new TextEncoder().encode('head|'), new TextEncoder().encode('body'))).toBe(true);
    const got: string[] = [];
    reader.poll((b, o, l) => got.push(text(b, o, l)));
    expect(got).toEqual(['head|body']);
  });

  it('refuses a message larger than the ring with FrameTooLargeError', () => {
    const handle = createChannel({ capacityBytes: 64 });
    const writer = new ChannelWriter(handle);
    expect(() => writer.tryWrite(new Uint8Array(writer.maxPayloadBytes + 1))).toThrow(FrameTooLargeError);
    expect(writer.tryWrite(new Uint8Array(writer.maxPayloadBytes))).toBe(true);
  });

  it('says no, without writing, when the ring is full, and yes once the reader made room', () => {
    const handle = createChannel({ capacityBytes: 64 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    let written = 0;
    while (writer.tryWrite(frame(written + 1, 10))) written++;
    expect(written).toBe(4); // 4 x 14 bytes in 64
    let read = 0;
    reader.poll(() => read++);
    expect(read).toBe(4);
    expect(writer.tryWrite(frame(5, 10))).toBe(true);
  });

  it('fails a write that waits too long with a named TimeoutError', async () => {
    const handle = createChannel({ capacityBytes: 64 });
    const writer = new ChannelWriter(handle);
    while (writer.tryWrite(new Uint8Array(10)));
    const error = await writer.write(new Uint8Array(10), 30).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).code).toBe('ERR_CHANNEL_WRITE_TIMEOUT');
  });

  it('delivers what was written before close, then reports closed; writing after close throws', async () => {
    const handle = createChannel({ capacityBytes: 256 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    writer.tryWrite(new TextEncoder().encode('last words'));
    writer.close();
    expect(() => writer.tryWrite(new Uint8Array(1))).toThrow(ChannelClosedError);
    expect(reader.closedAndDrained).toBe(false);
    expect(await reader.waitAsync(1_000)).toBe('ready');
    const got: string[] = [];
    reader.poll((b, o, l) => got.push(text(b, o, l)));
    expect(got).toEqual(['last words']);
    expect(await reader.waitAsync(1_000)).toBe('closed');
    expect(reader.closedAndDrained).toBe(true);
  });

  it('wakes a writer waiting for room when the reader closes, with ChannelClosedError', async () => {
    const handle = createChannel({ capacityBytes: 64 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    while (writer.tryWrite(new Uint8Array(10)));
    const pending = writer.write(new Uint8Array(10), 5_000);
    reader.close();
    await expect(pending).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('keeps the frames after one whose handler threw, and refuses re-entrant polls', () => {
    const handle = createChannel({ capacityBytes: 256 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    for (const m of ['a', 'boom', 'c']) writer.tryWrite(new TextEncoder().encode(m));
    const got: string[] = [];
    expect(() => reader.poll((b, o, l) => {
      const m = text(b, o, l);
      if (m === 'boom') throw new Error('handler failed');
      got.push(m);
    })).toThrow('handler failed');
    expect(() => reader.poll(() => reader.poll(() => undefined))).toThrow(IllegalStateError);
    expect(got).toEqual(['a']);
    // the re-entrancy probe consumed 'c' as the outer frame; nothing is left or duplicated
    expect(reader.poll(() => got.push('extra'))).toBe(0);
  });

  it('holds corked frames back and publishes them, in order, on uncork', () => {
    const handle = createChannel({ capacityBytes: 1_024 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    writer.cork();
    writer.cork(); // nested: only the outermost uncork publishes
    for (let i = 0; i < 10; i++) expect(writer.tryWrite(new TextEncoder().encode(`c${i}`))).toBe(true);
    expect(reader.hasFrames).toBe(false);
    writer.uncork();
    expect(reader.hasFrames).toBe(false);
    writer.uncork();
    const got: string[] = [];
    reader.poll((b, o, l) => got.push(text(b, o, l)));
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`));
  });

  it('wakes a sleeping reader once per uncork for corked frames too large to stage', async () => {
    const handle = createChannel({ capacityBytes: 64 * 1024 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    const control = new Int32Array(handle.control);
    const woken = reader.waitAsync(5_000); // raises READER_SLEEPING and sleeps on DATA_SEQ
    const seqBefore = Atomics.load(control, ChannelSlot.DATA_SEQ);
    writer.cork();
    for (let i = 0; i < 3; i++) expect(writer.tryWrite(frame(i, 5_000))).toBe(true); // > 4 KiB: straight into the ring
    expect(Atomics.load(control, ChannelSlot.DATA_SEQ)).toBe(seqBefore);
    writer.uncork();
    expect(Atomics.load(control, ChannelSlot.DATA_SEQ)).toBe(seqBefore + 1);
    expect(await woken).toBe('ready');
    expect(reader.poll(() => undefined)).toBe(3);
  });

  it('accepts corked frames only while ring space is free for them, and never loses one', () => {
    const handle = createChannel({ capacityBytes: 200 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    const got: number[] = [];
    const onFrame = (b: Uint8Array, o: number): void => { got.push(new DataView(b.buffer, b.byteOffset + o).getUint32(0, true)); };
    writer.cork();
    let seq = 1;
    while (seq <= 1_000) {
      if (writer.tryWrite(frame(seq, 4 + (seq % 30)))) seq++;
      else reader.poll(onFrame); // a refused frame published the stage, so the reader has work
    }
    writer.uncork();
    reader.poll(onFrame);
    expect(got).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
  });

  it('close publishes corked frames first', async () => {
    const handle = createChannel({ capacityBytes: 256 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    writer.cork();
    writer.tryWrite(new TextEncoder().encode('corked'));
    writer.close();
    const got: string[] = [];
    reader.poll((b, o, l) => got.push(text(b, o, l)));
    expect(got).toEqual(['corked']);
    expect(await reader.waitAsync(100)).toBe('closed');
  });

  it('drain resolves once the reader has taken everything', async () => {
    const handle = createChannel({ capacityBytes: 256 });
    const writer = new ChannelWriter(handle);
    const reader = new ChannelReader(handle);
    writer.tryWrite(new Uint8Array(20));
    let drained = false;
    const draining = writer.drain(5_000).then(() => { drained = true; });
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    reader.poll(() => undefined);
    await draining;
    expect(drained).toBe(true);
  });
});

describe('channel between threads', () => {
  it('loses nothing and keeps order when the writer outruns a reader on a much smaller ring', async () => {
    const handle = createChannel({ capacityBytes: 4_096 });
    const worker = startReader('verify', handle);
    const done = once(worker, 'message');
    const writer = new ChannelWriter(handle);
    let bytes = 0;
    const count = 20_000;
    for (let seq = 1; seq <= count; seq++) {
      const f = frame(seq, 4 + ((seq * 7919) % 1_000));
      bytes += f.length;
      if (!writer.tryWrite(f)) await writer.write(f, 5_000);
    }
    writer.close();
    const [state] = (await done) as [{ frames: number; bytes: number; errors: string[] }];
    expect(state.errors).toEqual([]);
    expect(state.frames).toBe(count);
    expect(state.bytes).toBe(bytes);
    expect(bytes).toBeGreaterThan(100 * 4_096);
  });

  it('loses nothing with a corked writer on a small ring', async () => {
    const handle = createChannel({ capacityBytes: 2_048 });
    const worker = startReader('verify', handle);
    const done = once(worker, 'message');
    const writer = new ChannelWriter(handle);
    writer.cork();
    for (let seq = 1; seq <= 20_000; seq++) {
      const f = frame(seq, 4 + (seq % 300));
      if (!writer.tryWrite(f)) await writer.write(f, 5_000);
    }
    writer.uncork();
    writer.close();
    const [state] = (await done) as [{ frames: number; errors: string[] }];
    expect(state.errors).toEqual([]);
    expect(state.frames).toBe(20_000);
  });

  it('back-pressures a writer against a slow reader without loss', async () => {
    const handle = createChannel({ capacityBytes: 1_024 });
    const worker = startReader('slow', handle);
    const done = once(worker, 'message');
    const writer = new ChannelWriter(handle);
    for (let seq = 1; seq <= 2_000; seq++) await writer.write(frame(seq, 100), 5_000);
    writer.close();
    const [state] = (await done) as [{ frames: number; errors: string[] }];
    expect(state.errors).toEqual([]);
    expect(state.frames).toBe(2_000);
  });

  it('wakes a reader asleep in Atomics.wait when a frame arrives', async () => {
    const handle = createChannel({ capacityBytes: 1_024 });
    const worker = startReader('sleep', handle);
    const [announce] = (await once(worker, 'message')) as [{ sleeping: boolean }];
    expect(announce.sleeping).toBe(true);
    // Wait until the reader has raised its sleeping flag, i.e. is (about to be) in Atomics.wait.
    const control = new Int32Array(handle.control);
    const deadlineMs = performance.now() + 5_000;
    while (Atomics.load(control, ChannelSlot.READER_SLEEPING) !== 1) {
      if (performance.now() > deadlineMs) throw new Error('reader never went to sleep');
      await new Promise((resolve) => setImmediate(resolve));
    }
    const replied = once(worker, 'message');
    new ChannelWriter(handle).tryWrite(new TextEncoder().encode('wake up'));
    const [reply] = (await replied) as [{ result: string; waitedMs: number; frames: string[] }];
    expect(reply.result).toBe('ready');
    expect(reply.frames).toEqual(['wake up']);
    expect(reply.waitedMs).toBeLessThan(10_000);
  });
});
