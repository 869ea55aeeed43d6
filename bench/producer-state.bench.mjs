// What rebuilding producer state costs when a partition log opens. Writes one partition as a
// single segment (the default segment.bytes is 1 GiB, so a crash before the first roll leaves no
// roll snapshot: the worst case), from 1,000 idempotent producers, then opens it three ways:
//   snapshot  after a clean close: a snapshot at the log end, no batch read;
//   scan      no snapshot: every batch header read (what a crash before the first roll costs);
//   neither   the same log without any producer (batches with producer id -1), scanned: the floor.
// Two shapes: 1,000,000 batches of one ~90-byte record, and 1 GiB in 16 KiB batches.
// Median of ROUNDS opens; the page cache is warm (as after a process crash, not a power loss).
// Usage: node bench/producer-state.bench.mjs [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LOG_CONFIG, PartitionLog } from '../dist/shared/log/partition-log.js';
import { deleteProducerSnapshot, snapshotOffsets } from '../dist/shared/log/producer-snapshot.js';
import { RecordBatchBuilder } from '../dist/shared/record-batch/builder.js';
import { setBaseOffset } from '../dist/shared/record-batch/header.js';

const ROUNDS = 5;
const PRODUCERS = 1_000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const open = (dir) => PartitionLog.open(dir, 'bench', 0, DEFAULT_LOG_CONFIG, { recoveryPoint: 0, logStartOffset: 0, cleanShutdown: true });

/** Writes `batches` batches of `records` records of `valueBytes` each; idempotent unless `plain`. */
function writeLog(dir, batches, records, valueBytes, plain) {
  const { log } = open(dir);
  const buffer = Buffer.alloc(records * (valueBytes + 32) + 128);
  const value = Buffer.alloc(valueBytes, 7);
  const sequences = new Array(PRODUCERS).fill(0);
  let offset = 0;
  let pending = [];
  for (let i = 0; i < batches; i++) {
    const producer = i % PRODUCERS;
    const builder = new RecordBatchBuilder(plain ? { buffer } : { buffer, producerId: producer, producerEpoch: 0, baseSequence: sequences[producer] });
    for (let r = 0; r < records; r++) builder.tryAppend({ timestamp: 1_700_000_000_000 + i, key: null, value });
    const bytes = Buffer.from(builder.build());
    setBaseOffset(bytes, 0, offset);
    pending.push({ bytes, baseOffset: offset, lastOffset: offset + records - 1, maxTimestamp: 1_700_000_000_000 + i });
    offset += records;
    sequences[producer] += records;
    if (pending.length === 1_000) {
      log.append(pending);
      pending = [];
    }
  }
  log.append(pending);
  log.flush();
  log.snapshotProducerState();
  const sizeBytes = log.sizeBytes;
  log.close();
  return sizeBytes;
}

function timeOpens(dir) {
  const ms = [];
  let recovery;
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    const opened = open(dir);
    ms.push(performance.now() - t);
    recovery = opened.recovery;
    opened.log.close();
  }
  return { ms: Math.round(median(ms)), scanned: recovery.producerBatchesScanned };
}

function measure(name, batches, records, valueBytes) {
  const dir = mkdtempSync(join(tmpdir(), 'ringlog-producer-state-'));
  const plainDir = mkdtempSync(join(tmpdir(), 'ringlog-producer-state-'));
  try {
    const sizeBytes = writeLog(dir, batches, records, valueBytes, false);
    writeLog(plainDir, batches, records, valueBytes, true);
    const snapshot = timeOpens(dir);
    for (const offset of snapshotOffsets(join(dir, 'bench-0'))) deleteProducerSnapshot(join(dir, 'bench-0'), offset);
    const scan = timeOpens(dir);
    for (const offset of snapshotOffsets(join(plainDir, 'bench-0'))) deleteProducerSnapshot(join(plainDir, 'bench-0'), offset);
    const neither = timeOpens(plainDir);
    const result = { batches, sizeMiB: Math.round(sizeBytes / 1_048_576), openWithSnapshotMs: snapshot.ms, openScanningMs: scan.ms, scannedBatches: scan.scanned, openScanningWithoutProducersMs: neither.ms };
    console.log(`${name}: ${batches} batches, ${result.sizeMiB} MiB; open with a log-end snapshot ${snapshot.ms} ms, scanning every header ${scan.ms} ms (${scan.scanned} batches), the same log without producers ${neither.ms} ms`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(plainDir, { recursive: true, force: true });
  }
}

const result = {
  smallBatches: measure('1M small batches', 1_000_000, 1, 90),
  oneGiB: measure('1 GiB of 16 KiB batches', 65_536, 16, 990),
};
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
