// CRC-32C throughput: ringlog's crc32c (native @node-rs/crc32, through our subrange wrapper) vs a
// table-driven pure-JS CRC-32C (slicing-by-8, the usual fast JS form), on 16 KiB (a typical
// batch) and 1 MiB (a large fetch or batch) buffers. Needs `npm run build` first.
//
//   node bench/crc32c.bench.mjs [--json]
//
// Prints one line per case; with --json the last stdout line is
// { nativeGBps16k, nativeGBps1m, jsGBps16k, ratio } (ratio = native / JS at 16 KiB). GB/s is 10^9
// bytes per second; each figure is the median of ROUNDS timed rounds after a warm-up.
import { randomFillSync } from 'node:crypto';
import { crc32c } from '../dist/shared/crc32c.js';

const ROUNDS = 7;
const ROUND_MS = 150;

/** Slicing-by-8 tables for the reflected Castagnoli polynomial. */
const TABLES = (() => {
  const t = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[0][n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let s = 1; s < 8; s++) t[s][n] = (t[s - 1][n] >>> 8) ^ t[0][t[s - 1][n] & 0xff];
  }
  return t;
})();

function jsCrc32c(bytes) {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = -1;
  let i = 0;
  const end8 = bytes.length & ~7;
  for (; i < end8; i += 8) {
    const a = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    crc =
      t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24] ^
      t3[bytes[i + 4]] ^ t2[bytes[i + 5]] ^ t1[bytes[i + 6]] ^ t0[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) crc = (crc >>> 8) ^ t0[(crc ^ bytes[i]) & 0xff];
  return (crc ^ -1) >>> 0;
}

/** Median GB/s of `fn(buffer)` over ROUNDS rounds of about ROUND_MS each. */
function measure(fn, buffer) {
  let sink = 0;
  // Warm-up, and a first estimate of how many calls fill a round.
  let calls = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) sink ^= fn(buffer);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > 20) {
      calls = Math.max(1, Math.round((calls * ROUND_MS) / ms));
      break;
    }
    calls *= 2;
  }
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) sink ^= fn(buffer);
    const ns = Number(process.hrtime.bigint() - t0);
    rates.push((calls * buffer.length) / ns); // bytes per ns = GB/s
  }
  if (sink === 0.5) process.stdout.write(''); // keep `sink` alive
  rates.sort((a, b) => a - b);
  return rates[ROUNDS >> 1];
}

const buf16k = randomFillSync(Buffer.alloc(16 * 1024));
const buf1m = randomFillSync(Buffer.alloc(1024 * 1024));
for (const buf of [buf16k, buf1m, Buffer.from('123456789')]) {
  if (crc32c(buf) !== jsCrc32c(buf)) throw new Error('native and JS CRC-32C disagree; refusing to time them');
}

const native = (b) => crc32c(b, 0, b.length);
const results = {
  nativeGBps16k: measure(native, buf16k),
  nativeGBps1m: measure(native, buf1m),
  jsGBps16k: measure(jsCrc32c, buf16k),
};
const jsGBps1m = measure(jsCrc32c, buf1m);
results.ratio = results.nativeGBps16k / results.jsGBps16k;

const fmt = (x) => x.toFixed(2).padStart(7);
process.stdout.write(`crc32c native (@node-rs/crc32)   16 KiB ${fmt(results.nativeGBps16k)} GB/s\n`);
process.stdout.write(`crc32c native (@node-rs/crc32)    1 MiB ${fmt(results.nativeGBps1m)} GB/s\n`);
process.stdout.write(`crc32c pure JS (slicing-by-8)    16 KiB ${fmt(results.jsGBps16k)} GB/s\n`);
process.stdout.write(`crc32c pure JS (slicing-by-8)     1 MiB ${fmt(jsGBps1m)} GB/s\n`);
process.stdout.write(`native / JS at 16 KiB            ${results.ratio.toFixed(1)}x\n`);
if (process.argv.includes('--json')) {
  const round = (x) => Math.round(x * 1000) / 1000;
  process.stdout.write(`${JSON.stringify({ nativeGBps16k: round(results.nativeGBps16k), nativeGBps1m: round(results.nativeGBps1m), jsGBps16k: round(results.jsGBps16k), ratio: round(results.ratio) })}\n`);
}
