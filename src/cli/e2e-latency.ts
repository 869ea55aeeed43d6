/**
 * `ringlog e2e-latency`, as Kafka's EndToEndLatency: one record at a time — send it, wait for its
 * acknowledgement, then poll until it arrives — timing each round trip from before the send to the
 * record in hand, on a one-partition topic in an embedded broker. As in Kafka's tool: linger.ms 0
 * on the producer, the consumer assigned to the partition at its end, nothing batched in time.
 * Kafka's tool also sets fetch.max.wait.ms 0; here the consumer keeps its long poll (the broker
 * answers the moment the record is written), because a fetch loop that never waits takes CPU
 * from the producer and the broker on two cores: `--consumer-props fetch.max.wait.ms=0` for
 * Kafka's setting. Reports the average and percentiles.
 */
import { IllegalStateError, TimeoutError } from '../shared/errors.js';
import { createTopic, openPerfTarget } from './perf-target.js';
import { percentile } from './stats.js';

export interface E2eLatencyOptions {
  topic: string;
  numMessages: number;
  recordSizeBytes: number;
  acks: 'all' | '-1' | '0' | '1';
  producerProps: Record<string, string>;
  consumerProps: Record<string, string>;
  dataDir: string | undefined;
  /** Longest wait for one record to come back. */
  pollTimeoutMs: number;
  /** host:port,... of brokers to reach over TCP; undefined for an embedded broker. */
  bootstrapServer: string | undefined;
}

export interface E2eLatencyResult {
  count: number;
  recordSizeBytes: number;
  acks: string;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export const DEFAULT_E2E_LATENCY_OPTIONS: E2eLatencyOptions = {
  topic: 'e2e-latency',
  numMessages: 10_000,
  recordSizeBytes: 100,
  acks: '1',
  producerProps: {},
  consumerProps: {},
  dataDir: undefined,
  pollTimeoutMs: 60_000,
  bootstrapServer: undefined,
};

/** Warm-up round trips (JIT, connections, first fetch) left out of the figures. */
const WARM_UP = 100;

export async function runE2eLatency(o: E2eLatencyOptions): Promise<E2eLatencyResult> {
  const target = await openPerfTarget(o.bootstrapServer, o.dataDir, 'e2e-latency');
  try {
    await createTopic(target, o.topic, 1);
    const producer = await target.producer({ acks: o.acks, 'linger.ms': 0, 'enable.idempotence': o.acks === 'all' || o.acks === '-1', ...o.producerProps });
    const latencies = new Float64Array(o.numMessages);
    const value = Buffer.alloc(o.recordSizeBytes);
    // Closed whatever fails (a bad --consumer-props, an unreachable leader): their workers would keep the process alive.
    const consumer = await target.consumer({ 'enable.auto.commit': false, 'auto.offset.reset': 'latest', ...o.consumerProps }).catch(async (error: unknown) => {
      await producer.close();
      throw error;
    });
    try {
      const partition = { topic: o.topic, partition: 0 };
      consumer.assign([partition]);
      consumer.seekToEnd([partition]);
      await consumer.position(partition);
      for (let i = -WARM_UP; i < o.numMessages; i++) {
        value.writeUInt32BE(i >>> 0, 0);
        const begin = performance.now();
        await producer.send({ topic: o.topic, partition: 0, value });
        const records = await pollOne(consumer, o.pollTimeoutMs);
        const elapsed = performance.now() - begin;
        if (records.length !== 1 || records[0]!.value!.readUInt32BE(0) !== i >>> 0) {
          throw new IllegalStateError(`round trip ${i}: expected the record just sent, got ${records.length} records`);
        }
        if (i >= 0) latencies[i] = elapsed;
      }
    } finally {
      await consumer.close();
      await producer.close();
    }
    const samples = Array.from(latencies);
    const fixed = (n: number): number => Number(n.toFixed(3));
    return {
      count: o.numMessages,
      recordSizeBytes: o.recordSizeBytes,
      acks: o.acks,
      avgMs: fixed(samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length)),
      p50Ms: fixed(percentile(samples, 50)),
      p99Ms: fixed(percentile(samples, 99)),
      p999Ms: fixed(percentile(samples, 99.9)),
      maxMs: fixed(Math.max(...samples)),
    };
  } finally {
    await target.close();
  }
}

/** Polls until something arrives, at most timeoutMs. */
async function pollOne<T>(consumer: { poll(timeoutMs: number): Promise<T[]> }, timeoutMs: number): Promise<T[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) throw new TimeoutError('ERR_E2E_TIMEOUT', 'the record sent did not come back', timeoutMs);
    const records = await consumer.poll(remainingMs);
    if (records.length > 0) return records;
  }
}

/** Kafka's closing lines. */
export function formatE2eLatency(r: E2eLatencyResult): string[] {
  return [
    `Avg latency: ${r.avgMs.toFixed(4)} ms`,
    `Percentiles: 50th = ${r.p50Ms}, 99th = ${r.p99Ms}, 99.9th = ${r.p999Ms}`,
  ];
}
