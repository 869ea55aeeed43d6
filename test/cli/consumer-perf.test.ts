import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

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
