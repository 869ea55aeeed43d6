// Kafka clients against one ringlog broker over TCP: each produces N 100-byte records to its own
// one-partition topic (acks=1), then consumes them from the beginning. records/s per client and
// ringlog's ratio to the others. Clients run one after another (the machine has 2 cores).
// ringlog consumes with createConsumer (its I/O and heartbeat workers own the sockets), in a group.
// Usage: node --max-semi-space-size=64 bench/kafka-clients.bench.mjs [--records N] [--batch-size B] [--json]
// --batch-size: ringlog's batch.size (default Kafka's 16384; librdkafka's default, which kcat uses, is 1000000)
// (npm run bench passes that flag: the young generation bin/ringlog.js gives the perf tools)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import * as ringlog from '../dist/index.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs');

const { values } = parseArgs({ options: { records: { type: 'string', default: '500000' }, 'batch-size': { type: 'string', default: '16384' }, json: { type: 'boolean', default: false } } });
const N = Number(values.records);
const BATCH_SIZE = Number(values['batch-size']);
const RECORD_BYTES = 100;
const value = Buffer.alloc(RECORD_BYTES, 'A');
const silent = pino({ level: 'silent' });

const dataDir = mkdtempSync(join(tmpdir(), 'ringlog-clients-bench-'));
const cluster = await ringlog.startCluster({ dataDir, logger: silent, port: 0, brokerConfig: { 'group.initial.rebalance.delay.ms': 0 } });
const bootstrap = cluster.bootstrapServers;
const admin = await ringlog.connectClient(bootstrap);
for (const topic of ['bench-ringlog', 'bench-kafkajs', 'bench-kcat']) {
  await admin.request(ringlog.ApiKeys.CREATE_TOPICS, { topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30_000 });
}
admin.close();

const rate = (ms) => Math.round(N / (ms / 1000));
// kcat is a Debian package (.ci/run installs it); without it its column is null.
const haveKcat = spawnSync('kcat', ['-V']).status === 0;

async function ringlogProduce() {
  const producer = await ringlog.createProducer({ bootstrapServers: bootstrap, logger: silent, acks: '1', 'linger.ms': 5, 'batch.size': BATCH_SIZE });
  const start = performance.now();
  let acked = 0;
  let failed = null;
  let allAcked;
  const done = new Promise((resolve) => { allAcked = resolve; });
  const callback = (error) => {
    if (error !== null) failed ??= error;
    if (++acked === N) allAcked();
  };
  // As `ringlog producer-perf` sends: a turn of the event loop every 2,000 sends lets batches go out.
  for (let i = 0; i < N; i++) {
    if (!producer.send({ topic: 'bench-ringlog', value }, callback)) await producer.drained();
    else if (i % 2_000 === 1_999) await new Promise(setImmediate);
  }
  await done;
  const ms = performance.now() - start;
  await producer.close();
  if (failed !== null) throw failed;
  return ms;
}

async function kafkajsProduce() {
  const kafka = new Kafka({ clientId: 'bench', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  const start = performance.now();
  // KafkaJS batches what one send() is given: sends of 1,000 records, 5 in flight (its default cap).
  const CHUNK = 1_000;
  const messages = Array.from({ length: CHUNK }, () => ({ value }));
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const count = Math.min(CHUNK, N - next);
      next += count;
      await producer.send({ topic: 'bench-kafkajs', acks: 1, messages: count === CHUNK ? messages : messages.slice(0, count) });
    }
  };
  await Promise.all(Array.from({ length: 5 }, worker));
  const ms = performance.now() - start;
  await producer.disconnect();
  return ms;
}

async function ringlogConsume() {
  const consumer = await ringlog.createConsumer({ bootstrapServers: bootstrap, logger: silent, 'group.id': 'bench-ringlog', 'auto.offset.reset': 'earliest' });
  const start = performance.now();
  consumer.subscribe(['bench-ringlog']);
  let count = 0;
  while (count < N) count += (await consumer.poll(1_000)).length;
  const ms = performance.now() - start;
  await consumer.close();
  return ms;
}

async function kafkajsConsume() {
  const kafka = new Kafka({ clientId: 'bench', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: 'bench-kafkajs', maxBytesPerPartition: 8 << 20, maxBytes: 64 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: ['bench-kafkajs'], fromBeginning: true });
  let count = 0;
  let allRead;
  const done = new Promise((resolve) => { allRead = resolve; });
  const start = performance.now();
  await consumer.run({ eachBatch: async ({ batch }) => { count += batch.messages.length; if (count >= N) allRead(); } });
  await done;
  const ms = performance.now() - start;
  await consumer.disconnect();
  return ms;
}

/** Runs kcat, feeding `input`; the time is from spawn to exit (process start-up included). */
function timeKcat(args, input) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('kcat', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'] });
    let lines = 0;
    child.stdout.on('data', (chunk) => { for (const b of chunk) if (b === 10) lines++; });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve({ ms: performance.now() - start, lines }) : reject(new Error(`kcat exited ${code}`))));
    if (input !== undefined) child.stdin.end(input);
  });
}

async function kcatProduce() {
  const line = Buffer.concat([value, Buffer.from('\n')]);
  const input = Buffer.alloc(line.length * N);
  for (let i = 0; i < N; i++) line.copy(input, i * line.length);
  const { ms } = await timeKcat(['-b', bootstrap, '-P', '-t', 'bench-kcat', '-X', 'acks=1', '-X', 'linger.ms=5'], input);
  return ms;
}

async function kcatConsume() {
  const { ms, lines } = await timeKcat(['-b', bootstrap, '-C', '-t', 'bench-kcat', '-o', 'beginning', '-e', '-q', '-f', '%S\n']);
  if (lines !== N) throw new Error(`kcat read ${lines} of ${N} records`);
  return ms;
}

const produce = { ringlog: rate(await ringlogProduce()), kafkajs: rate(await kafkajsProduce()), kcat: haveKcat ? rate(await kcatProduce()) : null };
const consume = { ringlog: rate(await ringlogConsume()), kafkajs: rate(await kafkajsConsume()), kcat: haveKcat ? rate(await kcatConsume()) : null };
await cluster.close();
rmSync(dataDir, { recursive: true, force: true });

const ratio = (a, b) => (a === null || b === null ? null : Number((a / b).toFixed(2)));
const result = {
  records: N, recordBytes: RECORD_BYTES, ringlogBatchSize: BATCH_SIZE, produce, consume,
  ringlogVsKafkajs: { produce: ratio(produce.ringlog, produce.kafkajs), consume: ratio(consume.ringlog, consume.kafkajs) },
  ringlogVsKcat: { produce: ratio(produce.ringlog, produce.kcat), consume: ratio(consume.ringlog, consume.kcat) },
};
const fmt = (n) => (n === null ? 'n/a' : n.toLocaleString('en-US'));
console.log(`${N} records of ${RECORD_BYTES} B over TCP to one ringlog broker (acks=1; ringlog's batch.size ${BATCH_SIZE}), records/s:`);
console.log(`  produce: ringlog ${fmt(produce.ringlog)}, KafkaJS ${fmt(produce.kafkajs)}, kcat ${fmt(produce.kcat)}; ringlog/KafkaJS ${result.ringlogVsKafkajs.produce}x, ringlog/kcat ${result.ringlogVsKcat.produce}x`);
console.log(`  consume: ringlog ${fmt(consume.ringlog)}, KafkaJS ${fmt(consume.kafkajs)}, kcat ${fmt(consume.kcat)}; ringlog/KafkaJS ${result.ringlogVsKafkajs.consume}x, ringlog/kcat ${result.ringlogVsKcat.consume}x`);
console.log(`  (${os.cpus().length} CPUs, ${os.cpus()[0].model}, Node ${process.version}; kcat ${haveKcat ? 'installed' : 'missing'})`);
if (values.json) console.log(JSON.stringify(result));
