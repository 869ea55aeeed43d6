import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import { ApiKeys, ErrorCodes } from '../../src/shared/protocol/index.js';
import { memoryLogger } from '../actors/helpers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';

const run = promisify(execFile);
const bin = new URL('../../bin/ringlog.js', import.meta.url).pathname;

// The tool's output contract, not its speed: the goals are checked by running the benchmark.
describe('ringlog consumer-perf', () => {
  it("prints Kafka's ConsumerPerformance lines and, with --json, the figures as one JSON object on the last line", async () => {
    const { stdout } = await run(process.execPath, [bin, 'consumer-perf', '--messages', '20000', '--partitions', '2', '--group', 'perf-test', '--json']);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec');
    const result = JSON.parse(lines.at(-1)!) as Record<string, number>;
    expect(result.records).toBe(20_000);
    expect(result.bytes).toBe(2_000_000);
    for (const key of ['recordsPerSec', 'mbPerSec', 'fetchTimeMs', 'fetchRecordsPerSec']) expect(result[key], key).toBeGreaterThan(0);
    expect(result.rebalanceTimeMs).toBeGreaterThanOrEqual(0);
  });

  it('refuses a bad flag with the usage', async () => {
    await expect(run(process.execPath, [bin, 'consumer-perf', '--messages', '0'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--messages must be a positive integer, got '0'") });
  });
});

describe('ringlog consumer-perf --bootstrap-server', () => {
  const tempDir = useTempDirs();
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  /** A broker listening on TCP, as an existing cluster, with topic `full` (2 partitions, 3000 records of 40 bytes) and `empty`. */
  async function existingCluster(): Promise<Cluster> {
    cluster = await startCluster({ dataDir: tempDir(), port: 0, logger: memoryLogger().logger, brokerConfig: { 'group.initial.rebalance.delay.ms': 0 } });
    const client = await cluster.client();
    const created = await client.request(ApiKeys.CREATE_TOPICS, {
      topics: ['full', 'empty'].map((name) => ({ name, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] })), timeoutMs: 10_000, validateOnly: false,
    }) as { topics: { errorCode: number }[] };
    client.close();
    expect(created.topics.map((t) => t.errorCode)).toEqual([0, 0]);
    const producer = await cluster.producer({ 'linger.ms': 2 });
    await Promise.all(Array.from({ length: 3000 }, (_, i) => producer.send({ topic: 'full', partition: i % 2, value: Buffer.alloc(40, i) })));
    await producer.close();
    return cluster;
  }

  const perf = (args: string[]): Promise<{ stdout: string; stderr: string }> => run(process.execPath, [bin, 'consumer-perf', ...args], { env: { ...process.env, LOG_LEVEL: 'error' } });

  it('consumes an existing topic over TCP and prints the figures', async () => {
    const { bootstrapServers } = await existingCluster();
    const { stdout } = await perf(['--bootstrap-server', bootstrapServers, '--topic', 'full', '--messages', '3000', '--json']);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^start\.time, end\.time/);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ topic: 'full', records: 3000, expectedRecords: 3000, bytes: 120_000, partitions: 2, recordSizeBytes: 40 });
  }, 60_000);

  it('ends at --timeout with Kafka\'s warning naming the topic when it holds fewer records than asked for', async () => {
    const { bootstrapServers } = await existingCluster();
    const { stdout } = await perf(['--bootstrap-server', bootstrapServers, '--topic', 'empty', '--messages', '10', '--timeout', '1500', '--json']);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe("WARNING: Exiting before consuming the expected number of messages: timeout (1500 ms) exceeded with 0 of 10 records read from topic 'empty'. You can use the --timeout option to increase the timeout.");
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ topic: 'empty', records: 0, expectedRecords: 10, partitions: 2 });
  }, 60_000);

  it('fails with an error naming a topic that does not exist, and does not create it', async () => {
    const { bootstrapServers } = await existingCluster();
    const failure = await perf(['--bootstrap-server', bootstrapServers, '--topic', 'missing', '--messages', '10']).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain(`topic 'missing' does not exist on ${bootstrapServers}`);
    const client = await cluster!.client();
    const metadata = await client.request(ApiKeys.METADATA, { topics: [{ name: 'missing' }], allowAutoTopicCreation: false }) as { topics: { errorCode: number }[] };
    client.close();
    expect(metadata.topics[0]!.errorCode).toBe(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION);
  }, 60_000);

  it('needs --topic with --bootstrap-server', async () => {
    await expect(perf(['--bootstrap-server', '127.0.0.1:1'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--bootstrap-server needs --topic') });
  });
});
