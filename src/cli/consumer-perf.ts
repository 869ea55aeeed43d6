/**
 * `ringlog consumer-perf`, as Kafka's ConsumerPerformance: a consumer in group G subscribes to the
 * topic and polls until it has read N records (or --timeout passes without any), touching each
 * record's key and value; it reports MB and records per second over the whole run, the rebalance
 * time (subscribe to the first assignment) and the fetch time (the rest), and the rates over the
 * fetch time. By default it first fills a topic in an embedded broker in a temporary directory
 * with the Producer; only the consuming is timed. With --bootstrap-server it reads an existing
 * topic of any Kafka cluster over TCP instead, filling nothing. As in Kafka's tool, a topic with
 * fewer records than asked for ends the run at the timeout, with a warning saying so.
 */
import type { ConsumerRecord } from '../actors/consumer.js';
import { ErrorCodes, kafkaError } from '../shared/protocol/index.js';
import { createTopic, fill, openPerfTarget, partitionCount, payload } from './perf-target.js';

export interface ConsumerPerfOptions {
  topic: string;
  messages: number;
  group: string;
  recordSizeBytes: number;
  partitions: number;
  /** Stop when no record arrives for this long. */
  timeoutMs: number;
  consumerProps: Record<string, string>;
  dataDir: string | undefined;
  /** Fill the topic with `messages` records first (embedded broker only). */
  fill: boolean;
  /** host:port,... of brokers whose existing topic to read over TCP; undefined for an embedded broker. */
  bootstrapServer: string | undefined;
}

export interface ConsumerPerfResult {
  topic: string;
  /** Records asked for (--messages); `records` is less when the timeout ended the run. */
  expectedRecords: number;
  timeoutMs: number;
  records: number;
  bytes: number;
  partitions: number;
  recordSizeBytes: number;
  startTime: string;
  endTime: string;
  mb: number;
  mbPerSec: number;
  recordsPerSec: number;
  rebalanceTimeMs: number;
  fetchTimeMs: number;
  fetchMbPerSec: number;
  fetchRecordsPerSec: number;
}

export const DEFAULT_CONSUMER_PERF_OPTIONS: ConsumerPerfOptions = {
  topic: 'consumer-perf',
  messages: 1_000_000,
  group: `perf-consumer-${Math.floor(Math.random() * 100_000)}`,
  recordSizeBytes: 100,
  partitions: 1,
  timeoutMs: 10_000,
  consumerProps: {},
  dataDir: undefined,
  fill: true,
  bootstrapServer: undefined,
};

const MB = 1024 * 1024;

export async function runConsumerPerf(o: ConsumerPerfOptions): Promise<ConsumerPerfResult> {
  const target = await openPerfTarget(o.bootstrapServer, o.dataDir, 'consumer-perf');
  try {
    const filling = o.fill && o.bootstrapServer === undefined;
    let partitions = o.partitions;
    if (filling) {
      await createTopic(target, o.topic, o.partitions);
      await fill(target, o.topic, o.partitions, o.messages, payload(o.recordSizeBytes));
    } else if (o.bootstrapServer !== undefined) {
      // Subscribing would auto-create a missing topic, and the run would only time out: say so now.
      const count = await partitionCount(target, o.topic);
      if (count === null) throw kafkaError(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, `topic '${o.topic}' does not exist on ${target.where}: consumer-perf --bootstrap-server reads an existing topic`);
      partitions = count;
    }
    const consumer = await target.consumer({ 'group.id': o.group, 'auto.offset.reset': 'earliest', 'enable.auto.commit': false, ...o.consumerProps });
    let records = 0;
    let bytes = 0;
    let assignedMs = Number.NaN;
    const startMs = Date.now();
    const startPerf = performance.now();
    consumer.subscribe([o.topic], {
      onPartitionsAssigned: (partitions) => { if (partitions.length > 0 && Number.isNaN(assignedMs)) assignedMs = performance.now(); },
    });
    let lastRecordPerf = performance.now();
    let endPerf = performance.now();
    const count = (batch: ConsumerRecord[]): void => {
      for (const record of batch) {
        bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
      }
      records += batch.length;
    };
    while (records < o.messages) {
      const batch = await consumer.poll(Math.max(1, Math.min(1_000, lastRecordPerf + o.timeoutMs - performance.now())));
      const now = performance.now();
      if (batch.length === 0) {
        if (now - lastRecordPerf >= o.timeoutMs) break;
        continue;
      }
      count(batch);
      lastRecordPerf = endPerf = now;
    }
    const endMs = startMs + (endPerf - startPerf);
    await consumer.close();
    const elapsedSec = Math.max(1e-9, (endPerf - startPerf) / 1000);
    const rebalanceTimeMs = Number.isNaN(assignedMs) ? endPerf - startPerf : assignedMs - startPerf;
    const fetchTimeMs = Math.max(0, endPerf - startPerf - rebalanceTimeMs);
    const fetchSec = Math.max(1e-9, fetchTimeMs / 1000);
    return {
      topic: o.topic,
      expectedRecords: o.messages,
      timeoutMs: o.timeoutMs,
      records,
      bytes,
      partitions,
      recordSizeBytes: filling ? o.recordSizeBytes : Math.round(bytes / Math.max(1, records)),
      startTime: new Date(startMs).toISOString(),
      endTime: new Date(endMs).toISOString(),
      mb: round(bytes / MB, 4),
      mbPerSec: round(bytes / MB / elapsedSec, 4),
      recordsPerSec: Math.round(records / elapsedSec),
      rebalanceTimeMs: Math.round(rebalanceTimeMs),
      fetchTimeMs: Math.round(fetchTimeMs),
      fetchMbPerSec: round(bytes / MB / fetchSec, 4),
      fetchRecordsPerSec: Math.round(records / fetchSec),
    };
  } finally {
    await target.close();
  }
}

const round = (n: number, digits: number): number => Number(n.toFixed(digits));

/** Kafka's header line and result line, after Kafka's warning when the timeout ended the run early. */
export function formatConsumerPerf(r: ConsumerPerfResult): string[] {
  return [
    ...(r.records < r.expectedRecords
      ? [`WARNING: Exiting before consuming the expected number of messages: timeout (${r.timeoutMs} ms) exceeded with ${r.records} of ${r.expectedRecords} records read from topic '${r.topic}'. You can use the --timeout option to increase the timeout.`]
      : []),
    'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
    `${r.startTime}, ${r.endTime}, ${r.mb.toFixed(4)}, ${r.mbPerSec.toFixed(4)}, ${r.records}, ${r.recordsPerSec.toFixed(4)}, ${r.rebalanceTimeMs}, ${r.fetchTimeMs}, ${r.fetchMbPerSec.toFixed(4)}, ${r.fetchRecordsPerSec.toFixed(4)}`,
  ];
}
