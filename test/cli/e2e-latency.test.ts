import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import { memoryLogger } from '../actors/helpers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { storedBatches, storedRecords } from '../tcp/read-partition.js';

const run = promisify(execFile);
const bin = new URL('../../bin/ringlog.js', import.meta.url).pathname;

// The tool's output contract, not its speed: the goals are checked by running the benchmark.
describe('ringlog e2e-latency', () => {
  it("prints Kafka's EndToEndLatency lines and, with --json, the percentiles as one JSON object on the last line", async () => {
    const { stdout } = await run(process.execPath, [bin, 'e2e-latency', '--num-messages', '300', '--record-size', '50', '--acks', '1', '--json']);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Avg latency: \d+\.\d{4} ms$/);
    expect(lines[1]).toMatch(/^Percentiles: 50th = [\d.]+, 99th = [\d.]+, 99.9th = [\d.]+$/);
    const result = JSON.parse(lines.at(-1)!) as Record<string, number>;
    expect(result.count).toBe(300);
    for (const key of ['avgMs', 'p50Ms', 'p99Ms', 'p999Ms']) expect(result[key], key).toBeGreaterThan(0);
    expect(result.p50Ms).toBeLessThanOrEqual(result.p99Ms!);
    expect(result.p99Ms).toBeLessThanOrEqual(result.p999Ms!);
  });

  it('ends with exit code 1 naming the key of a bad --consumer-props value (the producer already started is closed)', async () => {
    const failure = await run(process.execPath, [bin, 'e2e-latency', '--num-messages', '10', '--consumer-props', 'fetch.max.wait.ms=soon'], { timeout: 30_000 }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining("ConfigError: fetch.max.wait.ms: must be an integer, got 'soon'") });
  }, 40_000);

  it('refuses bad acks with the usage', async () => {
    await expect(run(process.execPath, [bin, 'e2e-latency', '--acks', '2'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--acks must be all, -1, 0 or 1, got '2'") });
  });
});

describe('ringlog e2e-latency --bootstrap-server', () => {
  const tempDir = useTempDirs();
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  it('creates its topic on a broker over TCP and makes every round trip through it', async () => {
    cluster = await startCluster({ dataDir: tempDir(), port: 0, logger: memoryLogger().logger });
    const { stdout } = await run(process.execPath, [bin, 'e2e-latency', '--bootstrap-server', cluster.bootstrapServers, '--topic', 'latency', '--num-messages', '200', '--record-size', '20', '--json'], { env: { ...process.env, LOG_LEVEL: 'error' } });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ count: 200, recordSizeBytes: 20 });
    // 100 warm-up round trips and 200 timed ones, numbered in their first 4 bytes, in that broker's log.
    const records = storedRecords(await storedBatches(cluster.bootstrapServers, 'latency', 0));
    expect(records.map((r) => r.value!.readInt32BE(0))).toEqual(Array.from({ length: 300 }, (_, i) => i - 100));
  }, 60_000);
});
