import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('../../bin/ringlog.js', import.meta.url).pathname;

// The tool's output contract, not its speed: the goals are checked by running the benchmark.
describe('ringlog log-perf', () => {
  it.each([[[]], [['--flush-messages', '1']]])('prints the figures as one JSON object on the last line (%j)', async (extra) => {
    const { stdout } = await run(process.execPath, [bin, 'log-perf', '--num-records', '20000', '--record-size', '100', ...extra, '--json']);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number | null>;
    for (const key of ['recordsPerSec', 'mbPerSec', 'rawMbPerSec', 'ratio', 'rawPerBatchMbPerSec', 'ratioPerBatch']) expect(result[key], key).toBeGreaterThan(0);
    // The raw loop writes whole batches, as many per call as the log writer's writev takes (1 MiB).
    expect(result.rawWriteBytes).toBeGreaterThan(1_000_000);
    expect(result.rawWriteBytes).toBeLessThanOrEqual(1 << 20);
    expect(result.numRecords).toBeGreaterThanOrEqual(20_000);
    expect(result.flushMessages).toBe(extra.length === 0 ? null : 1);
  });
});
