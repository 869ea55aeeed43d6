/**
 * `ringlog log-perf`: appends batches of fixed-size records through the log writer worker and, in
 * the same run, writes the same bytes with a plain sequential fs.writeSync loop, the ceiling the
 * write path is measured against. The raw loop writes as much per call as the log writer does per
 * writev (LOG_WRITER_STEP_BYTES), so neither side gains from its write size: that is `ratio`. A
 * second raw loop writes one batch per call, as a log without coalescing would (`ratioPerBatch`).
 * With --flush-messages K the writer fsyncs every K records, and a record counts as done only
 * once durable (group commit makes one fsync cover many batches).
 * Each path runs ROUNDS times, alternating, each into a fresh file (for the log writer, a fresh
 * partition of one long-lived writer); the medians are compared.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LOG_WRITER_STEP_BYTES } from '../actors/log-writer.js';
import { LogWriterClient } from '../actors/log-writer-client.js';
import { DEFAULT_LOG_CONFIG } from '../shared/log/partition-log.js';
import { RecordBatchBuilder } from '../shared/record-batch/builder.js';
import { setBaseOffset } from '../shared/record-batch/header.js';

export interface LogPerfOptions {
  recordSizeBytes: number;
  numRecords: number;
  /** fsync every this many records; undefined: Kafka's default, never forced. */
  flushMessages: number | undefined;
  batchSizeBytes: number;
  /** Bytes per writeSync of the raw loop (whole batches, at least one). */
  rawWriteBytes: number;
  dataDir: string | undefined;
}

export interface LogPerfResult {
  recordSizeBytes: number;
  numRecords: number;
  recordsPerBatch: number;
  flushMessages: number | null;
  recordsPerSec: number;
  mbPerSec: number;
  /** The raw loop, writing rawWriteBytes per call. */
  rawMbPerSec: number;
  rawWriteBytes: number;
  ratio: number;
  /** The raw loop writing one batch per call. */
  rawPerBatchMbPerSec: number;
  ratioPerBatch: number;
  /** Median time of the log writer path. */
  elapsedMs: number;
}

export const DEFAULT_LOG_PERF_OPTIONS: LogPerfOptions = {
  recordSizeBytes: 100,
  numRecords: 2_000_000,
  flushMessages: undefined,
  batchSizeBytes: 16_384,
  rawWriteBytes: LOG_WRITER_STEP_BYTES,
  dataDir: undefined,
};

const MB = 1024 * 1024;

/** One batch as a producer would send it, filled with `recordSizeBytes` values up to batchSizeBytes. */
function templateBatch(o: LogPerfOptions): { bytes: Buffer; records: number } {
  const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(Math.max(o.batchSizeBytes, o.recordSizeBytes + 1_024)) });
  const value = Buffer.alloc(o.recordSizeBytes, 0x61);
  const timestamp = Date.now();
  while (builder.tryAppend({ timestamp, key: null, value }) !== null);
  return { bytes: Buffer.from(builder.build()), records: builder.recordsCount };
}

/**
 * One round through the log writer: a fresh partition of `client` takes the batches, timed until
 * the last is reported written (durable with flush.messages); the partition is deleted after.
 */
async function throughLogWriter(client: LogWriterClient, round: number, o: LogPerfOptions, batch: { bytes: Buffer; records: number }, batches: number): Promise<number> {
  const partitionId = round + 1;
  const config = { ...DEFAULT_LOG_CONFIG, flushMessages: o.flushMessages ?? DEFAULT_LOG_CONFIG.flushMessages };
  await client.open({ partitionId, topic: `perf-${round}`, partition: 0, config });
  const target = batches * batch.records;
  const durable = o.flushMessages !== undefined;
  let stopListening: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    stopListening = client.onProgress((id, p) => {
      if (id === partitionId && (durable ? p.durableEndOffset : p.writtenEndOffset) >= target) resolve();
    });
  });
  try {
    const startMs = performance.now();
    for (let i = 0; i < batches; i++) {
      setBaseOffset(batch.bytes, 0, i * batch.records);
      // Straight into the channel while it has room; when full, wait for room: back-pressure, not buffering.
      if (!client.tryAppend(partitionId, batch.bytes)) await client.appendAsync(partitionId, batch.bytes);
    }
    await finished;
    return performance.now() - startMs;
  } finally {
    stopListening();
    await client.command({ type: 'delete', partitionId });
  }
}

/** Writes `batches` copies of `batch` sequentially, `writeBytes` of whole batches per writeSync (at least one). */
function rawSequentialWrite(dir: string, batch: Buffer, batches: number, writeBytes: number): number {
  const perWrite = Math.max(1, Math.floor(writeBytes / batch.length));
  const chunk = Buffer.concat(Array.from({ length: perWrite }, () => batch));
  const fd = openSync(join(dir, 'raw.log'), 'w');
  const startMs = performance.now();
  try {
    for (let i = 0; i < batches; i += perWrite) {
      const bytes = Math.min(perWrite, batches - i) * batch.length;
      for (let written = 0; written < bytes;) written += writeSync(fd, chunk, written, bytes - written);
    }
  } finally {
    closeSync(fd);
  }
  const elapsedMs = performance.now() - startMs;
  rmSync(join(dir, 'raw.log'));
  return elapsedMs;
}

/** Rounds of each path, alternated: page-cache state swings single runs by several times. */
const ROUNDS = 3;

const round1 = (n: number): number => Math.round(n * 10) / 10;
const round2 = (n: number): number => Math.round(n * 100) / 100;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function runLogPerf(options: Partial<LogPerfOptions> = {}): Promise<LogPerfResult> {
  const o: LogPerfOptions = { ...DEFAULT_LOG_PERF_OPTIONS, ...options };
  const batch = templateBatch(o);
  const batches = Math.max(1, Math.ceil(o.numRecords / batch.records));
  const records = batches * batch.records;
  const bytes = batches * batch.bytes.length;
  const dir = mkdtempSync(join(o.dataDir ?? tmpdir(), 'ringlog-log-perf-'));
  const rawMs: number[] = [];
  const rawPerBatchMs: number[] = [];
  const logMs: number[] = [];
  const rawWriteBytes = Math.max(1, Math.floor(o.rawWriteBytes / batch.bytes.length)) * batch.bytes.length;
  // One log writer for the run, as a broker has one per log directory: its rounds run warm.
  const client = new LogWriterClient({ logDir: join(dir, 'log'), logger: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    for (let round = 0; round < ROUNDS; round++) {
      rawMs.push(rawSequentialWrite(dir, batch.bytes, batches, rawWriteBytes));
      rawPerBatchMs.push(rawSequentialWrite(dir, batch.bytes, batches, batch.bytes.length));
      logMs.push(await throughLogWriter(client, round, o, batch, batches));
    }
    const mbPerSec = bytes / MB / (median(logMs) / 1000);
    const rawMbPerSec = bytes / MB / (median(rawMs) / 1000);
    const rawPerBatchMbPerSec = bytes / MB / (median(rawPerBatchMs) / 1000);
    return {
      recordSizeBytes: o.recordSizeBytes,
      numRecords: records,
      recordsPerBatch: batch.records,
      flushMessages: o.flushMessages ?? null,
      recordsPerSec: Math.round(records / (median(logMs) / 1000)),
      mbPerSec: round1(mbPerSec),
      rawMbPerSec: round1(rawMbPerSec),
      rawWriteBytes,
      ratio: round2(mbPerSec / rawMbPerSec),
      rawPerBatchMbPerSec: round1(rawPerBatchMbPerSec),
      ratioPerBatch: round2(mbPerSec / rawPerBatchMbPerSec),
      elapsedMs: Math.round(median(logMs)),
    };
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatLogPerf(r: LogPerfResult): string[] {
  return [
    `${r.numRecords} records of ${r.recordSizeBytes} bytes, ${r.recordsPerBatch} per batch, flush.messages ${r.flushMessages ?? 'never'}`,
    `  log writer     ${r.recordsPerSec.toLocaleString('en-US')} records/s, ${r.mbPerSec} MB/s${r.flushMessages === null ? '' : ' (durable)'}`,
    `  raw writeSync  ${r.rawMbPerSec} MB/s, ${r.rawWriteBytes} bytes per call: ratio ${r.ratio}`,
    `  raw writeSync  ${r.rawPerBatchMbPerSec} MB/s, one batch per call: ratio ${r.ratioPerBatch}`,
  ];
}
