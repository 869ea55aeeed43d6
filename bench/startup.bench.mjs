// How fast an embedded broker starts and stops: startCluster() until it serves (a broker worker
// and its log writer, on a fresh data directory), then close(). Median of ROUNDS.
// Usage: node bench/startup.bench.mjs [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startCluster } from '../dist/index.js';

const ROUNDS = 9;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const startMs = [];
const closeMs = [];
for (let i = 0; i < ROUNDS; i++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ringlog-startup-'));
  let t = performance.now();
  const cluster = await startCluster({ dataDir, logger: pino({ level: 'silent' }) });
  startMs.push(performance.now() - t);
  t = performance.now();
  await cluster.close();
  closeMs.push(performance.now() - t);
  rmSync(dataDir, { recursive: true, force: true });
}
const result = { rounds: ROUNDS, startClusterMedianMs: Math.round(median(startMs)), closeMedianMs: Math.round(median(closeMs)) };
console.log(`startCluster() to serving: median ${result.startClusterMedianMs} ms; close(): median ${result.closeMedianMs} ms (${ROUNDS} rounds)`);
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
