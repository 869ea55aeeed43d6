import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

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

  it('refuses bad acks with the usage', async () => {
    await expect(run(process.execPath, [bin, 'e2e-latency', '--acks', '2'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--acks must be all, -1, 0 or 1, got '2'") });
  });
});
