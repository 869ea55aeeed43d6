// Compression throughput per codec on 16 KiB record batches of 100-byte records (JSON-like events,
// keyed; compressible as real payloads are, not zeros), and the CompressionPool's batches/s against
// the same work done synchronously on the main thread. Needs `npm run build` first.
//
//   node bench/compression.bench.mjs [--json]
//
// MB/s counts uncompressed records bytes (10^6 bytes per second) both ways: compress reads them,
// decompress produces them. Each codec figure is the median of ROUNDS timed rounds after a warm-up,
// cycling through BATCHES different batches. The pool figures compress POOL_BATCHES whole batches
// (compressBatch: copy in, compress, CRC, move back) with up to IN_FLIGHT tasks outstanding, median
// of POOL_RUNS runs.
// With --json the last stdout line is { codecs: { name: { compressMBps, decompressMBps, ratio } },
// pool: { name: { syncBatchesPerSec, pool1BatchesPerSec, pool2BatchesPerSec } }, batchBytes, recordBytes }.
import { CompressionPool } from '../dist/shared/compression-pool.js';
import { Compression, RECORD_BATCH_OVERHEAD, RecordBatchBuilder, codecFor, compressBatchSync } from '../dist/shared/record-batch/index.js';

const BATCH_BYTES = 16 * 1024;
const RECORD_BYTES = 100;
const BATCHES = 32;
const ROUNDS = 7;
const ROUND_MS = 150;
const POOL_BATCHES = 3000;
const IN_FLIGHT = 32;
const POOL_RUNS = 3;
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'];

const events = ['page_view', 'click', 'add_to_cart', 'purchase', 'search'];
/** A ~100-byte record: a user key and a JSON event whose fields vary as real ones do. */
function record(i) {
  const value = JSON.stringify({ ts: 1_700_000_000_000 + i * 17, user: (i * 7919) % 50_000, event: events[i % 5], page: `/item/${(i * 104729) % 9973}`, ms: (i * 31) % 2000 });
  const key = `u${(i * 7919) % 50_000}`;
  return { timestamp: 1_700_000_000_000 + i, key: Buffer.from(key), value: Buffer.from(value.padEnd(RECORD_BYTES - key.length - 10, ' ')) };
}

let next = 0;
function fullBatch() {
  const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(BATCH_BYTES) });
  while (builder.tryAppend(record(next)) !== null) next++;
  return Buffer.from(builder.build());
}

const batches = Array.from({ length: BATCHES }, fullBatch);
const sections = batches.map((b) => b.subarray(RECORD_BATCH_OVERHEAD));
const sectionBytes = sections.reduce((sum, s) => sum + s.length, 0);

/** Median units/s (bytes or batches) of passes of `fn` over every input, repeated to fill ROUND_MS rounds. */
function measure(fn, inputs, unitsPerPass) {
  let passes = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let p = 0; p < passes; p++) for (const input of inputs) fn(input);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > 30) {
      passes = Math.max(1, Math.round((passes * ROUND_MS) / ms));
      break;
    }
    passes *= 2;
  }
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let p = 0; p < passes; p++) for (const input of inputs) fn(input);
    rates.push((passes * unitsPerPass * 1e9) / Number(process.hrtime.bigint() - t0));
  }
  return rates.sort((a, b) => a - b)[ROUNDS >> 1];
}

/** Batches per second compressing POOL_BATCHES batches with at most IN_FLIGHT outstanding. */
async function poolRun(pool, compression) {
  const t0 = performance.now();
  let submitted = 0;
  const worker = async () => {
    while (submitted < POOL_BATCHES) await pool.compressBatch(batches[submitted++ % BATCHES], compression);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return (POOL_BATCHES * 1000) / (performance.now() - t0);
}

/** Median of POOL_RUNS pool runs. */
async function poolRate(pool, compression) {
  const rates = [];
  for (let r = 0; r < POOL_RUNS; r++) rates.push(await poolRun(pool, compression));
  return rates.sort((a, b) => a - b)[POOL_RUNS >> 1];
}

const codecs = {};
for (const name of CODECS) {
  const codec = codecFor(Compression[name]);
  const compressed = sections.map((s) => codec.compress(s));
  const ratio = compressed.reduce((sum, c) => sum + c.length, 0) / sectionBytes;
  for (let i = 0; i < BATCHES; i++) if (!codec.decompress(compressed[i], BATCH_BYTES).equals(sections[i])) throw new Error(`${name} does not round-trip`);
  codecs[name] = {
    compressMBps: measure((s) => codec.compress(s), sections, sectionBytes) / 1e6,
    decompressMBps: measure((c) => codec.decompress(c, BATCH_BYTES), compressed, sectionBytes) / 1e6,
    ratio,
  };
  process.stdout.write(`${name.padEnd(7)} compress ${codecs[name].compressMBps.toFixed(0).padStart(5)} MB/s   decompress ${codecs[name].decompressMBps.toFixed(0).padStart(5)} MB/s   size ${(ratio * 100).toFixed(1)}% of the records\n`);
}

const pool = {};
const pool1 = new CompressionPool({ maxThreads: 1 });
const pool2 = new CompressionPool({ maxThreads: 2 });
for (const name of CODECS) {
  const compression = Compression[name];
  const syncBatchesPerSec = measure((b) => compressBatchSync(b, compression), batches, BATCHES);
  await poolRun(pool1, compression); // warm-up: threads started, codec packages loaded
  await poolRun(pool2, compression);
  pool[name] = { syncBatchesPerSec, pool1BatchesPerSec: await poolRate(pool1, compression), pool2BatchesPerSec: await poolRate(pool2, compression) };
  process.stdout.write(
    `${name.padEnd(7)} compressBatch: main thread ${pool[name].syncBatchesPerSec.toFixed(0).padStart(6)}/s   pool of 1 ${pool[name].pool1BatchesPerSec.toFixed(0).padStart(6)}/s   pool of 2 ${pool[name].pool2BatchesPerSec.toFixed(0).padStart(6)}/s\n`,
  );
}
await Promise.all([pool1.close(), pool2.close()]);

if (process.argv.includes('--json')) {
  const round = (x) => Math.round(x * 1000) / 1000;
  const roundAll = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([f, x]) => [f, round(x)]))]));
  process.stdout.write(`${JSON.stringify({ codecs: roundAll(codecs), pool: roundAll(pool), batchBytes: batches[0].length, recordBytes: RECORD_BYTES })}\n`);
}
