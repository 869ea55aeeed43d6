/**
 * Reading a channel's frames where they lie in the ring: ChannelReader.poll first copies every
 * frame into the reader's staging buffer, and a handler that keeps the bytes copies them again;
 * these hand the handler views of the ring itself (pollInPlace) and give the space back as soon as
 * it returns, so the bytes a handler keeps are copied once. The views are shared memory: copy out
 * with copyOut (word-wise at any alignment), and never keep or decode them in place.
 */
import type { ChannelReader, FrameHandler } from './channel.js';
import { copyFromShared } from './shared-copy.js';

/** Everything available at once: the space goes back right after, so holding it costs nothing. */
const ALL_AVAILABLE_BYTES = 0x7fffffff;

/** Hands every frame available now to `onFrame`, in order, as views of the ring; returns how many. */
export function pollThrough(reader: ChannelReader, onFrame: FrameHandler): number {
  try {
    return reader.pollInPlace(onFrame, ALL_AVAILABLE_BYTES);
  } finally {
    // Also after a throwing handler: its frame counts as read, as with poll().
    reader.release();
  }
}

/** As ChannelReader.readUntilClosed, with frames read in place. */
export function readThroughUntilClosed(reader: ChannelReader, onFrame: FrameHandler, idleSliceMs: number): Promise<void> {
  return reader.readUntilClosed(onFrame, idleSliceMs, pollThrough);
}

/** bytes[start, end) copied into unshared memory: into `into` (which must be end - start long), else a new Buffer. */
export function copyOut(bytes: Uint8Array, start: number, end: number, into: Buffer = Buffer.allocUnsafe(end - start)): Buffer {
  copyFromShared(bytes.subarray(start, end), into, 0);
  return into;
}
