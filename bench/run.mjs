// npm run bench: runs every bench/*.bench.mjs and the ringlog perf tools, one after another (the
// machine has 2 cores; overlapping runs would measure each other), and prints each one's output
// followed by a summary of their JSON results.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const bin = fileURLToPath(new URL('../bin/ringlog.js', import.meta.url));

// The young generation bin/ringlog.js's shebang gives the perf tools, for the bench files too
// (the kafka-clients bench hosts ringlog's and KafkaJS's clients in its own process).
const NODE_FLAGS = ['--max-semi-space-size=64'];

const runs = [
  ...readdirSync(benchDir).filter((f) => f.endsWith('.bench.mjs')).sort().map((f) => ({ name: f, args: [`${benchDir}${f}`, '--json'] })),
  { name: 'kafka-clients.bench.mjs (ringlog batch.size 1000000, as librdkafka batches)', args: [`${benchDir}kafka-clients.bench.mjs`, '--batch-size', '1000000', '--json'] },
  { name: 'ringlog channel-perf', args: [bin, 'channel-perf', '--json'] },
  { name: 'ringlog log-perf (100 B)', args: [bin, 'log-perf', '--record-size', '100', '--json'] },
  { name: 'ringlog log-perf (1 KB)', args: [bin, 'log-perf', '--record-size', '1024', '--num-records', '500000', '--json'] },
  { name: 'ringlog log-perf (100 B, flush.messages=1)', args: [bin, 'log-perf', '--record-size', '100', '--flush-messages', '1', '--json'] },
  ...[1, 6].flatMap((partitions) => [
    { name: `ringlog producer-perf (100 B, acks=1, ${partitions} partition(s), callback)`, args: [bin, 'producer-perf', '--num-records', '3000000', '--record-size', '100', '--partitions', String(partitions), '--producer-props', 'acks=1', '--json'] },
    { name: `ringlog producer-perf (100 B, acks=1, ${partitions} partition(s), promise)`, args: [bin, 'producer-perf', '--num-records', '2000000', '--record-size', '100', '--partitions', String(partitions), '--producer-props', 'acks=1', '--promise', '--json'] },
  ]),
  { name: 'ringlog consumer-perf (100 B, 1 partition)', args: [bin, 'consumer-perf', '--messages', '2000000', '--json'] },
  { name: 'ringlog consumer-perf (100 B, 1 partition, 5,000,000)', args: [bin, 'consumer-perf', '--messages', '5000000', '--json'] },
  { name: 'ringlog consumer-perf (100 B, 6 partitions)', args: [bin, 'consumer-perf', '--messages', '2000000', '--partitions', '6', '--json'] },
  { name: 'ringlog e2e-latency (100 B, acks=1)', args: [bin, 'e2e-latency', '--num-messages', '10000', '--json'] },
];

const summary = {};
let failed = false;
for (const { name, args } of runs) {
  process.stdout.write(`\n== ${name}\n`);
  const result = spawnSync(process.execPath, [...NODE_FLAGS, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(result.stdout);
  if (result.status !== 0) {
    failed = true;
    process.stdout.write(`${name} failed with exit code ${result.status}\n`);
    continue;
  }
  summary[name] = JSON.parse(result.stdout.trim().split('\n').at(-1));
}
process.stdout.write(`\n${JSON.stringify(summary)}\n`);
process.exitCode = failed ? 1 : 0;
