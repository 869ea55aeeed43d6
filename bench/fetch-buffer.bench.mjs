// The consumer's main-thread cost per record: FetchBuffer decoding 100-byte records (no key, no
// headers) out of fetched chunks of 16 KiB batches, as poll() does, max.poll.records 500, the
// default deserializers. This is the ceiling the main thread puts on consuming; the fetch path
// (broker, log writer, I/O worker) comes on top. Needs `npm run build` first.
//
//   node bench/fetch-buffer.bench.mjs [--json]
//
// With --json the last stdout line is { recordsPerSec, nsPerRecord } (median of ROUNDS rounds
// after a warm-up, each decoding CHUNKS chunks of about 1 MiB).
import { FetchBuffer } from '../dist/actors/fetch-buffer.js';
import { AssignedPartition } from '../dist/actors/subscription-state.js';
import { RecordBatchBuilder, setBaseOffset } from '../dist/shared/record-batch/index.js';

const ROUNDS = 7;
const CHUNKS = 40;
const MAX_POLL_RECORDS = 500;

/** About 1 MiB of 16 KiB batches of 100-byte records; returns it and its record count. */
function chunkTemplate() {
  const value = Buffer.alloc(100, 65);
  const batches = [];
  let records = 0;
  while (records < 9_000) {
    const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(16_384) });
    while (builder.tryAppend({ timestamp: Date.now(), key: null, value }) !== null) records++;
    batches.push(Buffer.from(builder.build()));
  }
  return { bytes: Buffer.concat(batches), records };
}

/** A copy of the template whose batches carry offsets from `base` on. */
function chunkAt(template, base) {
  const chunk = Buffer.from(template.bytes);
  for (let pos = 0, offset = base; pos < chunk.length;) {
    setBaseOffset(chunk, pos, offset);
    offset += chunk.readInt32BE(pos + 23) + 1;
    pos += chunk.readInt32BE(pos + 8) + 12;
  }
  return chunk;
}

function round(template) {
  const state = new AssignedPartition(1, 'bench', 0);
  state.setPosition(0);
  const buffer = new FetchBuffer(() => undefined);
  for (let i = 0; i < CHUNKS; i++) buffer.add(state, 0, chunkAt(template, i * template.records));
  const deserializers = { key: null, value: null };
  const startNs = process.hrtime.bigint();
  let records = 0;
  for (;;) {
    const out = [];
    buffer.drain(out, MAX_POLL_RECORDS, () => true, deserializers);
    if (out.length === 0) break;
    records += out.length;
  }
  return records / (Number(process.hrtime.bigint() - startNs) / 1e9);
}

const template = chunkTemplate();
round(template); // warm-up
const rates = Array.from({ length: ROUNDS }, () => round(template)).sort((a, b) => a - b);
const recordsPerSec = Math.round(rates[Math.floor(ROUNDS / 2)]);
const nsPerRecord = Number((1e9 / recordsPerSec).toFixed(1));
console.log(`FetchBuffer: ${recordsPerSec.toLocaleString('en-US')} records/s decoded (${nsPerRecord} ns per 100-byte record, median of ${ROUNDS})`);
if (process.argv.includes('--json')) console.log(JSON.stringify({ recordsPerSec, nsPerRecord }));
