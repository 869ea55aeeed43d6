import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('../../bin/ringlog.js', import.meta.url).pathname;

// The tool's output contract, not its speed: the goals are checked by running the benchmark.
describe('ringlog producer-perf', () => {
  it.each([[[]], [['--promise', '--partitions', '3', '--producer-props', 'acks=all', 'linger.ms=0']]])('prints Kafka\'s final line and the figures as JSON on the last line (%j)', async (extra) => {
    const { stdout } = await run(process.execPath, [bin, 'producer-perf', '--num-records', '20000', '--record-size', '100', ...extra, '--json'], { env: { ...process.env, LOG_LEVEL: 'error' } });
    const lines = stdout.trim().split('\n');
    expect(lines.at(-2)).toMatch(/^20000 records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, [\d.]+ ms 99.9th\.$/);
    const result = JSON.parse(lines.at(-1)!) as Record<string, number | string>;
    expect(result.records).toBe(20_000);
    expect(result.errors).toBe(0);
    for (const key of ['recordsPerSec', 'mbPerSec', 'avgLatencyMs', 'maxLatencyMs', 'p50Ms', 'p95Ms', 'p99Ms', 'p999Ms']) expect(result[key], key).toBeGreaterThan(0);
    expect(result.api).toBe(extra.length === 0 ? 'callback' : 'promise');
  });

  it('rejects a bad --producer-props value with a message naming the key and exit code 1', async () => {
    const failure = await run(process.execPath, [bin, 'producer-perf', '--num-records', '10', '--producer-props', 'linger.ms=soon'], { env: { ...process.env, LOG_LEVEL: 'error' } }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('linger.ms');
  });
});
