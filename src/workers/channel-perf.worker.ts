/**
 * The far end of `ringlog channel-perf`: a dedicated loop that receives or echoes messages so the
 * main thread can time the ring channel against postMessage.
 *
 * In (workerData): { test, messages, ring?: ChannelHandle, reply?: ChannelHandle }
 *   test 'ring-throughput'  read `messages` frames from `ring` (sleeping in Atomics.wait), then post
 *                           { done, checksum }
 *   test 'ring-pingpong'    echo every frame from `ring` onto `reply` until `ring` closes
 *   test 'pm-throughput'    count `messages` postMessage messages, then post { done, checksum }
 *   test 'pm-pingpong'      echo every postMessage message back until told { stop: true }
 * Out (parentPort): { ready: true } once listening, then as above.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChannelReader, ChannelWriter, type ChannelHandle } from '../shared/channel.js';

interface PerfWorkerData {
  test: 'ring-throughput' | 'ring-pingpong' | 'pm-throughput' | 'pm-pingpong';
  messages: number;
  ring?: ChannelHandle;
  reply?: ChannelHandle;
}

const port = parentPort!;
const data = workerData as PerfWorkerData;
const WAIT_SLICE_MS = 1_000;

function ringThroughput(handle: ChannelHandle, messages: number): void {
  const reader = new ChannelReader(handle);
  let received = 0;
  let checksum = 0;
  const onFrame = (bytes: Uint8Array, offset: number): void => {
    received++;
    checksum = (checksum + bytes[offset]!) | 0;
  };
  port.postMessage({ ready: true });
  while (received < messages) {
    if (reader.poll(onFrame) === 0 && reader.waitSync(WAIT_SLICE_MS) === 'closed') break;
  }
  port.postMessage({ done: received, checksum });
}

function ringPingPong(handle: ChannelHandle, replyHandle: ChannelHandle): void {
  const reader = new ChannelReader(handle);
  const writer = new ChannelWriter(replyHandle);
  const echo = (bytes: Uint8Array, offset: number, length: number): void => {
    writer.writeSync(bytes.subarray(offset, offset + length));
  };
  port.postMessage({ ready: true });
  for (;;) {
    if (reader.poll(echo) > 0) continue;
    if (reader.waitSync(WAIT_SLICE_MS) === 'closed') break;
  }
  writer.close();
  port.postMessage({ done: true });
}

function pmThroughput(messages: number): void {
  let received = 0;
  let checksum = 0;
  port.on('message', (msg: Uint8Array) => {
    received++;
    checksum = (checksum + msg[0]!) | 0;
    if (received === messages) port.postMessage({ done: received, checksum });
  });
  port.postMessage({ ready: true });
}

function pmPingPong(): void {
  port.on('message', (msg: Uint8Array | { stop: true }) => {
    if (msg instanceof Uint8Array) port.postMessage(msg);
    else port.close();
  });
  port.postMessage({ ready: true });
}

switch (data.test) {
  case 'ring-throughput':
    ringThroughput(data.ring!, data.messages);
    break;
  case 'ring-pingpong':
    ringPingPong(data.ring!, data.reply!);
    break;
  case 'pm-throughput':
    pmThroughput(data.messages);
    break;
  case 'pm-pingpong':
    pmPingPong();
    break;
  default:
    throw new Error(`channel-perf worker: unknown test ${String((data as { test: unknown }).test)}`);
}
