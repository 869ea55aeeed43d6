/**
 * The `ringlog` command line: dispatches to a subcommand. Each perf tool prints human-readable
 * lines and, with --json, one JSON object as the last line of stdout.
 */
import { parseArgs } from 'node:util';
import { RinglogError } from '../shared/errors.js';
import { brokerCommand } from './broker.js';
import { formatChannelPerf, runChannelPerf, DEFAULT_CHANNEL_PERF_OPTIONS } from './channel-perf.js';
import { DEFAULT_LOG_PERF_OPTIONS, formatLogPerf, runLogPerf } from './log-perf.js';
import { DEFAULT_PRODUCER_PERF_OPTIONS, formatProducerPerf, runProducerPerf } from './producer-perf.js';
import { DEFAULT_CONSUMER_PERF_OPTIONS, formatConsumerPerf, runConsumerPerf } from './consumer-perf.js';
import { DEFAULT_E2E_LATENCY_OPTIONS, formatE2eLatency, runE2eLatency } from './e2e-latency.js';

const USAGE = `usage: ringlog <command> [options]

commands:
  broker [--config server.properties] [--data-dir DIR] [--port P]
      a Kafka-compatible broker (Kafka's property names; --data-dir overrides log.dirs), serving
      Kafka clients on listeners or 127.0.0.1:9092 (--port: broker k on P + k, 0 for any port)
  channel-perf [--messages N] [--size BYTES] [--round-trips N] [--capacity BYTES] [--json]
      ring channel vs postMessage between the main thread and a worker
  log-perf [--record-size BYTES] [--num-records N] [--flush-messages K] [--raw-write-bytes BYTES] [--data-dir DIR] [--json]
      appends through the log writer worker vs a plain sequential write of the same bytes
  producer-perf [--topic T] [--num-records N] [--record-size BYTES] [--throughput N|-1]
                [--producer-props k=v ...] [--partitions P] [--promise] [--data-dir DIR]
                [--bootstrap-server HOST:PORT,...] [--json]
      Kafka's ProducerPerformance: records/s and send-to-ack latency, against an embedded broker
      or, with --bootstrap-server, against any Kafka cluster over TCP
  consumer-perf [--topic T] [--messages N] [--group G] [--record-size BYTES] [--partitions P]
                [--timeout MS] [--consumer-props k=v ...] [--no-fill] [--data-dir DIR]
                [--bootstrap-server HOST:PORT,... --topic T] [--json]
      Kafka's ConsumerPerformance: fills a topic in an embedded broker, then times consuming it;
      with --bootstrap-server, times consuming an existing topic of any Kafka cluster over TCP
  e2e-latency [--topic T] [--num-messages N] [--record-size BYTES] [--acks A] [--producer-props k=v ...]
              [--consumer-props k=v ...] [--data-dir DIR] [--bootstrap-server HOST:PORT,...] [--json]
      Kafka's EndToEndLatency: send one record, poll until it arrives; latency percentiles, against
      an embedded broker or, with --bootstrap-server, any Kafka cluster over TCP
`;

/** A bad command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

async function channelPerf(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      messages: { type: 'string' },
      size: { type: 'string' },
      'round-trips': { type: 'string' },
      capacity: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const d = DEFAULT_CHANNEL_PERF_OPTIONS;
  const result = await runChannelPerf({
    messages: positiveInt('messages', values.messages, d.messages),
    sizeBytes: positiveInt('size', values.size, d.sizeBytes),
    roundTrips: positiveInt('round-trips', values['round-trips'], d.roundTrips),
    capacityBytes: positiveInt('capacity', values.capacity, d.capacityBytes),
  });
  for (const line of formatChannelPerf(result)) process.stdout.write(`${line}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function logPerf(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      'record-size': { type: 'string' },
      'num-records': { type: 'string' },
      'flush-messages': { type: 'string' },
      'raw-write-bytes': { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const d = DEFAULT_LOG_PERF_OPTIONS;
  const result = await runLogPerf({
    recordSizeBytes: positiveInt('record-size', values['record-size'], d.recordSizeBytes),
    numRecords: positiveInt('num-records', values['num-records'], d.numRecords),
    flushMessages: values['flush-messages'] === undefined ? undefined : positiveInt('flush-messages', values['flush-messages'], 1),
    rawWriteBytes: positiveInt('raw-write-bytes', values['raw-write-bytes'], d.rawWriteBytes),
    dataDir: values['data-dir'],
  });
  for (const line of formatLogPerf(result)) process.stdout.write(`${line}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Kafka's tools take `--producer-props k=v k=v ...`: one flag, several values. */
function expandMultiValue(args: string[], flag: string): string[] {
  const out: string[] = [];
  let inFlag = false;
  for (const arg of args) {
    if (arg === flag) {
      inFlag = true;
      continue;
    }
    if (arg.startsWith('--')) inFlag = false;
    if (inFlag) out.push(flag, arg);
    else out.push(arg);
  }
  return out;
}

/** `k=v` flags (--producer-props, --consumer-props) as an object. */
function keyValues(list: string[] | undefined, flag: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const prop of list ?? []) {
    const eq = prop.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${flag} takes key=value, got '${prop}'`);
    props[prop.slice(0, eq)] = prop.slice(eq + 1);
  }
  return props;
}

async function consumerPerf(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args: expandMultiValue(args, '--consumer-props'),
    options: {
      topic: { type: 'string' },
      messages: { type: 'string' },
      group: { type: 'string' },
      'record-size': { type: 'string' },
      partitions: { type: 'string' },
      timeout: { type: 'string' },
      'consumer-props': { type: 'string', multiple: true },
      'no-fill': { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      'bootstrap-server': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const d = DEFAULT_CONSUMER_PERF_OPTIONS;
  const bootstrapServer = values['bootstrap-server'];
  // Kafka's tool needs --topic too: against a real cluster, reading a default name would be a guess.
  if (bootstrapServer !== undefined && values.topic === undefined) throw new UsageError('--bootstrap-server needs --topic: consumer-perf reads an existing topic there');
  const result = await runConsumerPerf({
    topic: values.topic ?? d.topic,
    messages: positiveInt('messages', values.messages, d.messages),
    group: values.group ?? d.group,
    recordSizeBytes: positiveInt('record-size', values['record-size'], d.recordSizeBytes),
    partitions: positiveInt('partitions', values.partitions, d.partitions),
    timeoutMs: positiveInt('timeout', values.timeout, d.timeoutMs),
    consumerProps: keyValues(values['consumer-props'], 'consumer-props'),
    dataDir: values['data-dir'],
    fill: !values['no-fill'],
    bootstrapServer,
  });
  for (const line of formatConsumerPerf(result)) process.stdout.write(`${line}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function e2eLatency(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args: expandMultiValue(expandMultiValue(args, '--producer-props'), '--consumer-props'),
    options: {
      topic: { type: 'string' },
      'num-messages': { type: 'string' },
      'record-size': { type: 'string' },
      acks: { type: 'string' },
      'producer-props': { type: 'string', multiple: true },
      'consumer-props': { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      'bootstrap-server': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const d = DEFAULT_E2E_LATENCY_OPTIONS;
  const acks = values.acks ?? d.acks;
  if (acks !== 'all' && acks !== '-1' && acks !== '0' && acks !== '1') throw new UsageError(`--acks must be all, -1, 0 or 1, got '${acks}'`);
  const result = await runE2eLatency({
    ...d,
    topic: values.topic ?? d.topic,
    numMessages: positiveInt('num-messages', values['num-messages'], d.numMessages),
    recordSizeBytes: Math.max(4, positiveInt('record-size', values['record-size'], d.recordSizeBytes)),
    acks,
    producerProps: keyValues(values['producer-props'], 'producer-props'),
    consumerProps: keyValues(values['consumer-props'], 'consumer-props'),
    dataDir: values['data-dir'],
    bootstrapServer: values['bootstrap-server'],
  });
  for (const line of formatE2eLatency(result)) process.stdout.write(`${line}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function producerPerf(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args: expandMultiValue(args, '--producer-props'),
    options: {
      topic: { type: 'string' },
      'num-records': { type: 'string' },
      'record-size': { type: 'string' },
      throughput: { type: 'string' },
      'producer-props': { type: 'string', multiple: true },
      partitions: { type: 'string' },
      promise: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      'bootstrap-server': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const d = DEFAULT_PRODUCER_PERF_OPTIONS;
  const producerProps = keyValues(values['producer-props'], 'producer-props');
  const throughput = values.throughput === undefined ? d.throughput : Number(values.throughput);
  if (!Number.isSafeInteger(throughput) || throughput === 0 || throughput < -1) throw new UsageError(`--throughput must be a positive integer or -1, got '${values.throughput}'`);
  const result = await runProducerPerf({
    ...d,
    topic: values.topic ?? d.topic,
    numRecords: positiveInt('num-records', values['num-records'], d.numRecords),
    recordSizeBytes: positiveInt('record-size', values['record-size'], d.recordSizeBytes),
    throughput,
    producerProps,
    partitions: positiveInt('partitions', values.partitions, d.partitions),
    promise: values.promise,
    dataDir: values['data-dir'],
    bootstrapServer: values['bootstrap-server'],
  });
  for (const line of formatProducerPerf(result)) process.stdout.write(`${line}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  'producer-perf': producerPerf,
  'consumer-perf': consumerPerf,
  'e2e-latency': e2eLatency,
  'log-perf': logPerf,
  broker: brokerCommand,
  'channel-perf': channelPerf,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  try {
    if (run === undefined) throw new UsageError(`unknown command '${command}'`);
    await run(rest);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`ringlog: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    // A ringlog error names what was wrong; anything else is a bug worth its stack.
    const message = err instanceof RinglogError ? `${err.name}: ${err.message}` : ((err as Error).stack ?? String(err));
    process.stderr.write(`ringlog ${command}: ${message}\n`);
    return 1;
  }
}
