/**
 * `ringlog producer-perf`, as Kafka's ProducerPerformance: sends N records of S bytes as fast as
 * allowed (or at --throughput records/s), measures each record's latency from send() to its
 * acknowledgement, prints a window line every 5 s and a final line with throughput, average and
 * maximum latency and the 50th/95th/99th/99.9th percentiles. By default it starts an embedded
 * broker in a temporary directory; with --bootstrap-server it produces over TCP to the brokers
 * named (ringlog's or Kafka's). It creates the topic with --partitions partitions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { pino } from 'pino';
import { startCluster } from '../actors/cluster.js';
import { connectClient, createProducer } from '../actors/tcp-clients.js';
import type { RecordMetadata, SendCallback } from '../actors/producer.js';
import { kafkaError } from '../shared/protocol/error-codes.js';
import { ApiKeys } from '../shared/protocol/index.js';
import { percentile } from './stats.js';

export interface ProducerPerfOptions {
  topic: string;
  numRecords: number;
  recordSizeBytes: number;
  /** Records per second; -1 for as fast as possible. */
  throughput: number;
  producerProps: Record<string, string>;
  partitions: number;
  /** Use send()'s promise instead of its callback. */
  promise: boolean;
  dataDir: string | undefined;
  /** host:port,... of brokers to produce to over TCP; undefined for an embedded broker. */
  bootstrapServer: string | undefined;
  /** Window lines go here (stdout by default). */
  report: (line: string) => void;
  reportIntervalMs: number;
}

export interface ProducerPerfResult {
  records: number;
  recordSizeBytes: number;
  partitions: number;
  api: 'callback' | 'promise';
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  errors: number;
  elapsedMs: number;
}

export const DEFAULT_PRODUCER_PERF_OPTIONS: ProducerPerfOptions = {
  topic: 'producer-perf',
  numRecords: 1_000_000,
  recordSizeBytes: 100,
  throughput: -1,
  producerProps: {},
  partitions: 1,
  promise: false,
  dataDir: undefined,
  bootstrapServer: undefined,
  report: (line) => process.stdout.write(`${line}\n`),
  reportIntervalMs: 5_000,
};

const MB = 1024 * 1024;
/** Sends per turn of the event loop before yielding to acknowledgements and drains. */
const SENDS_PER_TURN = 2_000;

/** Kafka's Stats: totals, a window, and latency samples (at most ~500k, evenly spaced). */
class Stats {
  readonly #start = performance.now();
  readonly #samples: Float64Array;
  readonly #sampling: number;
  #sampleCount = 0;
  #count = 0;
  #bytes = 0;
  #maxLatency = 0;
  #totalLatency = 0;
  #windowStart = performance.now();
  #windowCount = 0;
  #windowBytes = 0;
  #windowMax = 0;
  #windowTotal = 0;

  constructor(numRecords: number, readonly reportIntervalMs: number, readonly report: (line: string) => void) {
    this.#sampling = Math.max(1, Math.floor(numRecords / 500_000));
    this.#samples = new Float64Array(Math.ceil(numRecords / this.#sampling));
  }

  record(iteration: number, latencyMs: number, bytes: number, now: number): void {
    this.#count++;
    this.#bytes += bytes;
    this.#totalLatency += latencyMs;
    if (latencyMs > this.#maxLatency) this.#maxLatency = latencyMs;
    this.#windowCount++;
    this.#windowBytes += bytes;
    this.#windowTotal += latencyMs;
    if (latencyMs > this.#windowMax) this.#windowMax = latencyMs;
    if (iteration % this.#sampling === 0) this.#samples[this.#sampleCount++] = latencyMs;
    if (now - this.#windowStart >= this.reportIntervalMs) this.#newWindow(now);
  }

  #newWindow(now: number): void {
    const elapsedSec = (now - this.#windowStart) / 1000;
    this.report(`${this.#windowCount} records sent, ${(this.#windowCount / elapsedSec).toFixed(1)} records/sec (${(this.#windowBytes / MB / elapsedSec).toFixed(2)} MB/sec), ${(this.#windowTotal / Math.max(1, this.#windowCount)).toFixed(1)} ms avg latency, ${this.#windowMax.toFixed(1)} ms max latency.`);
    this.#windowStart = now;
    this.#windowCount = this.#windowBytes = this.#windowTotal = this.#windowMax = 0;
  }

  result(o: ProducerPerfOptions, errors: number): ProducerPerfResult {
    const elapsedMs = performance.now() - this.#start;
    const samples = Array.from(this.#samples.subarray(0, this.#sampleCount));
    return {
      records: this.#count,
      recordSizeBytes: o.recordSizeBytes,
      partitions: o.partitions,
      api: o.promise ? 'promise' : 'callback',
      recordsPerSec: Math.round(this.#count / (elapsedMs / 1000)),
      mbPerSec: Number((this.#bytes / MB / (elapsedMs / 1000)).toFixed(2)),
      avgLatencyMs: Number((this.#totalLatency / Math.max(1, this.#count)).toFixed(2)),
      maxLatencyMs: Number(this.#maxLatency.toFixed(2)),
      p50Ms: Number(percentile(samples, 50).toFixed(2)),
      p95Ms: Number(percentile(samples, 95).toFixed(2)),
      p99Ms: Number(percentile(samples, 99).toFixed(2)),
      p999Ms: Number(percentile(samples, 99.9).toFixed(2)),
      errors,
      elapsedMs: Math.round(elapsedMs),
    };
  }
}

/** Kafka's ThroughputThrottler: how long to wait so that `sent` records took at least sent/throughput s. */
function throttleDelayMs(sent: number, startMs: number, throughput: number): number {
  if (throughput <= 0) return 0;
  return Math.max(0, (sent / throughput) * 1000 - (performance.now() - startMs));
}

export async function runProducerPerf(o: ProducerPerfOptions): Promise<ProducerPerfResult> {
  const tcp = o.bootstrapServer;
  const dataDir = tcp !== undefined ? undefined : (o.dataDir ?? mkdtempSync(join(tmpdir(), 'ringlog-producer-perf-')));
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const cluster = dataDir === undefined ? null : await startCluster({ dataDir, logger });
  try {
    const client = cluster === null ? await connectClient(tcp!) : await cluster.client();
    const created = await client.request(ApiKeys.CREATE_TOPICS, {
      topics: [{ name: o.topic, numPartitions: o.partitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30_000, validateOnly: false,
    }) as { topics: { errorCode: number; errorMessage: string | null }[] };
    const code = created.topics[0]!.errorCode;
    if (code !== 0 && code !== 36 /* TOPIC_ALREADY_EXISTS */) throw kafkaError(code, created.topics[0]!.errorMessage);
    client.close();

    const producer = cluster === null
      ? await createProducer({ bootstrapServers: tcp, logger, acks: '1', ...o.producerProps })
      : await cluster.producer({ acks: '1', ...o.producerProps });
    const value = Buffer.alloc(o.recordSizeBytes);
    for (let i = 0; i < value.length; i++) value[i] = 0x41 + (i % 26); // Kafka's perf payload: letters
    const stats = new Stats(o.numRecords, o.reportIntervalMs, o.report);
    let errors = 0;
    let firstError: Error | null = null;
    let acknowledged = 0;
    let allAcknowledged: () => void = () => undefined;
    const done = new Promise<void>((resolve) => { allAcknowledged = resolve; });
    // The clocks, read once per burst of acknowledgements: a batch's records are answered together.
    let burstMonoMs = -1;
    let burstWallMs = -1;
    const endBurst = (): void => { burstMonoMs = -1; };
    // One callback for every send, as code that sends millions writes it (no closure per record):
    // the latency is from the record's timestamp, in ms, as Kafka's ProducerPerformance measures it.
    const onOutcome: SendCallback = (error, metadata) => {
      if (error !== null || metadata === null) {
        errors++;
        firstError ??= error;
      } else {
        if (burstMonoMs < 0) {
          burstMonoMs = performance.now();
          burstWallMs = Date.now();
          queueMicrotask(endBurst);
        }
        stats.record(acknowledged, Math.max(0, burstWallMs - metadata.timestamp), o.recordSizeBytes, burstMonoMs);
      }
      if (++acknowledged === o.numRecords) allAcknowledged();
    };
    const onAcknowledged = (metadata: RecordMetadata): void => onOutcome(null, metadata);
    const onFailed = (error: Error): void => onOutcome(error, null);
    // Every send is the same record; the producer copies its bytes, so one object serves them all.
    const record = { topic: o.topic, value };
    const startMs = performance.now();
    for (let i = 0; i < o.numRecords;) {
      const turnEnd = Math.min(o.numRecords, i + SENDS_PER_TURN);
      let mustWait = false;
      for (; i < turnEnd && !mustWait; i++) {
        if (o.promise) {
          producer.send(record).then(onAcknowledged, onFailed);
          mustWait = producer.needsDrain;
        } else {
          mustWait = !producer.send(record, onOutcome);
        }
      }
      if (mustWait) await producer.drained();
      const delayMs = throttleDelayMs(i, startMs, o.throughput);
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      else await yieldToLoop();
    }
    await done;
    const result = stats.result(o, errors);
    await producer.close();
    if (firstError !== null) logger.error({ err: firstError, errors }, 'some records failed');
    return result;
  } finally {
    await cluster?.close();
    if (o.dataDir === undefined && dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Kafka's final line. */
export function formatProducerPerf(r: ProducerPerfResult): string[] {
  return [
    `${r.records} records sent, ${r.recordsPerSec.toFixed(1)} records/sec (${r.mbPerSec.toFixed(2)} MB/sec), ${r.avgLatencyMs.toFixed(2)} ms avg latency, ${r.maxLatencyMs.toFixed(2)} ms max latency, ${r.p50Ms} ms 50th, ${r.p95Ms} ms 95th, ${r.p99Ms} ms 99th, ${r.p999Ms} ms 99.9th.`,
    ...(r.errors > 0 ? [`${r.errors} records failed.`] : []),
  ];
}
