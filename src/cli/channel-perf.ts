/**
 * `ringlog channel-perf`: moves fixed-size messages from the main thread to a worker over the ring
 * channel and over postMessage in the same run, then times ping-pong round trips over both.
 */
import { Worker } from 'node:worker_threads';
import { ChannelReader, ChannelWriter, createChannel } from '../shared/channel.js';
import { TimeoutError } from '../shared/errors.js';
import { workerEntry } from '../shared/worker-entry.js';
import { percentile } from './stats.js';

export interface ChannelPerfOptions {
  messages: number;
  sizeBytes: number;
  roundTrips: number;
  capacityBytes: number;
}

export interface ChannelPerfResult {
  messages: number;
  sizeBytes: number;
  roundTrips: number;
  /** The writer corked, as the runtime's writers are: messages published a 64 KiB stage at a time. */
  ringMsgsPerSec: number;
  /** One publish (ring index store, reader wake-up check) per message. */
  ringUncorkedMsgsPerSec: number;
  postMessageMsgsPerSec: number;
  ratio: number;
  ringMBPerSec: number;
  ringRttP50Us: number;
  ringRttP99Us: number;
  postMessageRttP50Us: number;
  postMessageRttP99Us: number;
  rttRatioP50: number;
}

export const DEFAULT_CHANNEL_PERF_OPTIONS: ChannelPerfOptions = {
  messages: 2_000_000,
  sizeBytes: 128,
  roundTrips: 20_000,
  capacityBytes: 1 << 20,
};

const STEP_TIMEOUT_MS = 60_000;

type PerfTest = 'ring-throughput' | 'ring-pingpong' | 'pm-throughput' | 'pm-pingpong';

async function startWorker(workerData: Record<string, unknown> & { test: PerfTest }): Promise<Worker> {
  const worker = new Worker(workerEntry('channel-perf'), { workerData });
  worker.once('error', () => undefined); // surfaced through nextMessage below
  await nextMessage(worker);
  return worker;
}

/** The worker's next message, or its error/exit as a rejection, bounded by STEP_TIMEOUT_MS. */
function nextMessage(worker: Worker): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new TimeoutError('ERR_PERF_STEP_TIMEOUT', 'channel-perf: worker did not answer', STEP_TIMEOUT_MS));
    }, STEP_TIMEOUT_MS);
    const onMessage = (msg: Record<string, unknown>): void => { cleanup(); resolve(msg); };
    const onError = (err: Error): void => { cleanup(); reject(err); };
    const onExit = (code: number): void => { cleanup(); reject(new Error(`channel-perf worker exited with code ${code}`)); };
    const cleanup = (): void => {
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

function payload(sizeBytes: number): Uint8Array {
  const bytes = new Uint8Array(sizeBytes);
  for (let i = 0; i < sizeBytes; i++) bytes[i] = i & 0xff;
  bytes[0] = 1;
  return bytes;
}

/** Messages/s over the ring; corked, the writer publishes them a stage (64 KiB) at a time. */
async function ringThroughput(o: ChannelPerfOptions, corked: boolean): Promise<number> {
  const ring = createChannel({ capacityBytes: o.capacityBytes });
  const worker = await startWorker({ test: 'ring-throughput', messages: o.messages, ring });
  const writer = new ChannelWriter(ring);
  const msg = payload(o.sizeBytes);
  const done = nextMessage(worker);
  const startMs = performance.now();
  if (corked) writer.cork();
  for (let i = 0; i < o.messages; i++) {
    if (!writer.tryWrite(msg)) await writer.write(msg, STEP_TIMEOUT_MS);
  }
  if (corked) writer.uncork();
  const result = await done;
  const elapsedMs = performance.now() - startMs;
  await worker.terminate();
  if (result.done !== o.messages || result.checksum !== (o.messages | 0)) {
    throw new Error(`channel-perf: ring delivered ${String(result.done)} of ${o.messages} messages`);
  }
  return (o.messages / elapsedMs) * 1000;
}

async function postMessageThroughput(o: ChannelPerfOptions): Promise<number> {
  const worker = await startWorker({ test: 'pm-throughput', messages: o.messages });
  const msg = payload(o.sizeBytes);
  const done = nextMessage(worker);
  const startMs = performance.now();
  for (let i = 0; i < o.messages; i++) worker.postMessage(msg);
  const result = await done;
  const elapsedMs = performance.now() - startMs;
  await worker.terminate();
  if (result.done !== o.messages) throw new Error(`channel-perf: postMessage delivered ${String(result.done)} of ${o.messages}`);
  return (o.messages / elapsedMs) * 1000;
}

async function ringRoundTrips(o: ChannelPerfOptions): Promise<number[]> {
  const ring = createChannel({ capacityBytes: o.capacityBytes });
  const reply = createChannel({ capacityBytes: o.capacityBytes });
  const worker = await startWorker({ test: 'ring-pingpong', messages: o.roundTrips, ring, reply });
  const writer = new ChannelWriter(ring);
  const reader = new ChannelReader(reply);
  const msg = payload(o.sizeBytes);
  let echoed = 0;
  const onEcho = (): void => { echoed++; };
  const samplesUs: number[] = [];
  const warmup = Math.min(1_000, o.roundTrips);
  for (let i = 0; i < warmup + o.roundTrips; i++) {
    const startMs = performance.now();
    await writer.write(msg, STEP_TIMEOUT_MS);
    while (reader.poll(onEcho) === 0) {
      if ((await reader.waitAsync(STEP_TIMEOUT_MS)) !== 'ready') throw new Error('channel-perf: ring echo did not come back');
    }
    if (i >= warmup) samplesUs.push((performance.now() - startMs) * 1000);
  }
  writer.close();
  await nextMessage(worker);
  await worker.terminate();
  if (echoed !== warmup + o.roundTrips) throw new Error(`channel-perf: ${echoed} ring echoes for ${warmup + o.roundTrips} pings`);
  return samplesUs;
}

async function postMessageRoundTrips(o: ChannelPerfOptions): Promise<number[]> {
  const worker = await startWorker({ test: 'pm-pingpong', messages: o.roundTrips });
  const msg = payload(o.sizeBytes);
  const samplesUs: number[] = [];
  const warmup = Math.min(1_000, o.roundTrips);
  for (let i = 0; i < warmup + o.roundTrips; i++) {
    const startMs = performance.now();
    const echo = nextMessage(worker);
    worker.postMessage(msg);
    await echo;
    if (i >= warmup) samplesUs.push((performance.now() - startMs) * 1000);
  }
  worker.postMessage({ stop: true });
  await worker.terminate();
  return samplesUs;
}

export async function runChannelPerf(options: Partial<ChannelPerfOptions> = {}): Promise<ChannelPerfResult> {
  const o: ChannelPerfOptions = { ...DEFAULT_CHANNEL_PERF_OPTIONS, ...options };
  const ringUncorkedMsgsPerSec = await ringThroughput(o, false);
  const ringMsgsPerSec = await ringThroughput(o, true);
  const postMessageMsgsPerSec = await postMessageThroughput(o);
  const ringRtt = await ringRoundTrips(o);
  const pmRtt = await postMessageRoundTrips(o);
  const ringRttP50Us = percentile(ringRtt, 50);
  const postMessageRttP50Us = percentile(pmRtt, 50);
  return {
    messages: o.messages,
    sizeBytes: o.sizeBytes,
    roundTrips: o.roundTrips,
    ringMsgsPerSec: Math.round(ringMsgsPerSec),
    ringUncorkedMsgsPerSec: Math.round(ringUncorkedMsgsPerSec),
    postMessageMsgsPerSec: Math.round(postMessageMsgsPerSec),
    ratio: round2(ringMsgsPerSec / postMessageMsgsPerSec),
    ringMBPerSec: round2((ringMsgsPerSec * o.sizeBytes) / (1024 * 1024)),
    ringRttP50Us: round2(ringRttP50Us),
    ringRttP99Us: round2(percentile(ringRtt, 99)),
    postMessageRttP50Us: round2(postMessageRttP50Us),
    postMessageRttP99Us: round2(percentile(pmRtt, 99)),
    rttRatioP50: round2(postMessageRttP50Us / ringRttP50Us),
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function formatChannelPerf(r: ChannelPerfResult): string[] {
  return [
    `${r.messages} messages of ${r.sizeBytes} bytes, main thread -> worker`,
    `  ring channel   ${r.ringMsgsPerSec.toLocaleString('en-US')} msgs/s (${r.ringMBPerSec} MB/s), corked writer`,
    `  ring, uncorked ${r.ringUncorkedMsgsPerSec.toLocaleString('en-US')} msgs/s, one publish per message`,
    `  postMessage    ${r.postMessageMsgsPerSec.toLocaleString('en-US')} msgs/s`,
    `  ratio          ${r.ratio}x`,
    `${r.roundTrips} ping-pong round trips`,
    `  ring channel   p50 ${r.ringRttP50Us} us, p99 ${r.ringRttP99Us} us`,
    `  postMessage    p50 ${r.postMessageRttP50Us} us, p99 ${r.postMessageRttP99Us} us`,
  ];
}
